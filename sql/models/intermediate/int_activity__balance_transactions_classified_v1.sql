-- Every balance transaction of every account (the platform's and each connected account's, a
-- disconnected one's as last loaded; objects marked deleted left out), with its UTC month, the
-- reporting category Stripe gave it (derived from its type on older objects that lack one), the
-- column of account_transactions_monthly it counts in, and whether it is a destination payment:
-- a connected account's `payment` that receives a platform transfer (the transfer's
-- destination_payment, `py_…`), so that one movement of money is counted on both sides.
-- Grain: (account_id, id).
with

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}
    where not is_deleted

),

platform_transfers as (

    select destination_id, destination_payment_id
    from {{ ref('stg_stripe__transfers') }}
    where is_platform and not is_deleted and destination_payment_id is not null

),

categorized as (

    select
        account_id,
        is_platform,
        id,
        type,
        source_id,
        created_at,
        {{ month_start(utc_date('created_at')) }} as month,
        -- Older objects lack reporting_category: derived from the type as Stripe groups them.
        coalesce(reporting_category, {{ reporting_category_of('type') }}) as reporting_category
    from balance_transactions

),

final as (

    select
        categorized.account_id,
        categorized.is_platform,
        categorized.id,
        categorized.type,
        categorized.reporting_category,
        case
            when categorized.reporting_category in ('charge', 'refund', 'dispute', 'payout', 'transfer', 'fee', 'platform_earning')
                then categorized.reporting_category
            else 'other'
        end as transactions_category,
        categorized.source_id,
        categorized.created_at,
        categorized.month,
        coalesce(
            not categorized.is_platform
                and categorized.type = 'payment'
                and platform_transfers.destination_payment_id is not null,
            false
        ) as is_destination_payment
    from categorized
    left join platform_transfers
        on platform_transfers.destination_id = categorized.account_id
        and platform_transfers.destination_payment_id = categorized.source_id

)

select * from final
