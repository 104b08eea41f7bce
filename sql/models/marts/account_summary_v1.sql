-- Each account, the platform and every connected account, in each currency it has activity in:
-- lifetime and trailing-30-day totals of its daily activity (int_activity__account_daily), its
-- first and last charge, active subscriptions, MRR, and the account's attributes. An account with
-- nothing in any currency has one row, with currency null. Grain: (account_id, currency).
{%- set measures = [
    'charges', 'succeeded_charges', 'failed_charges', 'gross_volume',
    'refunds', 'refunded_amount', 'disputes', 'disputed_amount',
    'fees', 'net', 'payouts', 'payout_amount',
    'application_fees', 'application_fee_amount', 'new_customers'
] %}
with

-- The warehouse's latest sight of Stripe: the newest observed_at of what the summary reads, the
-- instant its last sync read Stripe at (one second before Stripe's clock). A build at any later
-- time gives the same trailing window.
observed as (

    {% for relation in ['stg_stripe__accounts', 'stg_stripe__charges', 'stg_stripe__refunds', 'stg_stripe__disputes', 'stg_stripe__balance_transactions', 'stg_stripe__payouts', 'stg_stripe__application_fees', 'stg_stripe__customers', 'stg_stripe__subscriptions'] -%}
    select max(observed_at) as observed_at from {{ ref(relation) }}
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

as_of as (

    select
        max(observed_at) as as_of_at,
        {{ utc_date('max(observed_at)') }} as as_of_day
    from observed

),

-- The trailing 30 days: the 30 UTC days that end with the day of as_of_at, that day included.
daily as (

    select
        daily.*,
        date_add(daily.day, interval 29 day) >= as_of.as_of_day and daily.day <= as_of.as_of_day as is_in_trailing_30d
    from {{ ref('int_activity__account_daily') }} as daily
    cross join as_of

),

activity_totals as (

    select
        daily.account_id,
        daily.currency,
        {%- for measure in measures %}
        sum(daily.{{ measure }}) as lifetime_{{ measure }},
        {%- endfor %}
        {%- for measure in measures %}
        sum(case when daily.is_in_trailing_30d then daily.{{ measure }} else 0 end) as trailing_30d_{{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from daily
    group by 1, 2

),

charge_extent as (

    select
        account_id,
        currency,
        min(created_at) as first_charge_at,
        max(created_at) as last_charge_at
    from {{ ref('stg_stripe__charges') }}
    where not is_deleted
    group by 1, 2

),

subscription_totals as (

    -- Active: the statuses that count toward MRR (Stripe Billing's active and past_due).
    select
        account_id,
        currency,
        count(*) as active_subscriptions
    from {{ ref('stg_stripe__subscriptions') }}
    where status in ('active', 'past_due') and not is_deleted
    group by 1, 2

),

mrr_totals as (

    select
        account_id,
        currency,
        sum(mrr) as mrr
    from {{ ref('int_mrr__subscription_items_current') }}
    group by 1, 2

),

platform as (

    select value as account_id from {{ source('stripe_elt', 'settings') }} where key = 'platform'

),

connected_accounts as (

    select * from {{ ref('stg_stripe__accounts') }}

),

-- The platform (the account the warehouse recorded with its first data) and every connected
-- account it lists, disconnected ones marked deleted.
accounts as (

    select account_id from platform
    union distinct
    select id as account_id from connected_accounts

),

account_currencies as (

    {% for relation in ['activity_totals', 'charge_extent', 'subscription_totals', 'mrr_totals'] -%}
    select account_id, currency from {{ relation }}
    {% if not loop.last %}union distinct
    {% endif -%}
    {%- endfor %}

),

final as (

    select
        accounts.account_id,
        platform.account_id is not null as is_platform,
        account_currencies.currency,
        case
            when platform.account_id is not null then 'platform'
            when connected_accounts.is_deleted then 'disconnected'
            else 'connected'
        end as connection_status,
        connected_accounts.type as account_type,
        connected_accounts.country,
        connected_accounts.default_currency,
        connected_accounts.charges_enabled,
        connected_accounts.payouts_enabled,
        as_of.as_of_at,
        {%- for measure in measures %}
        coalesce(activity_totals.lifetime_{{ measure }}, 0) as lifetime_{{ measure }},
        {%- endfor %}
        {%- for measure in measures %}
        coalesce(activity_totals.trailing_30d_{{ measure }}, 0) as trailing_30d_{{ measure }},
        {%- endfor %}
        charge_extent.first_charge_at,
        charge_extent.last_charge_at,
        coalesce(subscription_totals.active_subscriptions, 0) as active_subscriptions,
        coalesce(mrr_totals.mrr, 0) as mrr
    from accounts
    cross join as_of
    left join platform
        on platform.account_id = accounts.account_id
    left join connected_accounts
        on connected_accounts.id = accounts.account_id
    left join account_currencies
        on account_currencies.account_id = accounts.account_id
    {%- for totals in ['activity_totals', 'charge_extent', 'subscription_totals', 'mrr_totals'] %}
    left join {{ totals }}
        on {{ totals }}.account_id = accounts.account_id
        and {{ totals }}.currency = account_currencies.currency
    {%- endfor %}

)

select * from final
