-- The instant each account's data describes: when the account was last synced.
with

accounts as (

    select account_id as platform_id, id, is_deleted, observed_at
    from {{ ref('stg_stripe__accounts') }}

),

-- A connected account is listed (observed) at every sync while it is connected.
connected as (

    select id as account_id, observed_at as as_of_at
    from accounts
    where not is_deleted

),

-- The platform lists its connected accounts at every sync.
platforms as (

    select platform_id as account_id, max(observed_at) as as_of_at
    from accounts
    group by platform_id

),

-- Otherwise (a disconnected account, a platform without connected accounts): the latest
-- observation of its subscriptions and invoices.
observed as (

    select account_id, max(observed_at) as as_of_at
    from (
        select account_id, observed_at from {{ ref('stg_stripe__subscriptions') }}
        union all
        select account_id, observed_at from {{ ref('stg_stripe__invoices') }}
    ) as observations
    group by account_id

),

final as (

    select
        observed.account_id,
        coalesce(connected.as_of_at, platforms.as_of_at, observed.as_of_at) as as_of_at
    from observed
    left join connected
        on connected.account_id = observed.account_id
    left join platforms
        on platforms.account_id = observed.account_id

)

select * from final
