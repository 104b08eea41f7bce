-- Each balance transaction with its source object: what kind of object moved the funds (by the
-- transaction's type, as Stripe documents each type's source), and through it the charge, the
-- customer and the connected account on the other side. Grain: (account_id, balance_transaction_id).
with

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}
    where not is_deleted

),

typed as (

    select
        account_id,
        id as balance_transaction_id,
        source_id,
        case
            when type in ('charge', 'payment') then 'charge'
            when type in ('refund', 'payment_refund', 'refund_failure') then 'refund'
            when type = 'adjustment' and reporting_category in ('dispute', 'dispute_reversal') then 'dispute'
            when type in ('payout', 'payout_cancel', 'payout_failure') then 'payout'
            when type in ('transfer', 'transfer_cancel', 'transfer_failure') then 'transfer'
            when type = 'application_fee' then 'application_fee'
            else 'other'
        end as source_type
    from balance_transactions

),

-- The source objects that lead to a charge or to another account, by type: one join for all.
source_objects as (

    select account_id, id, 'refund' as source_type, charge_id, cast(null as {{ ledger_text_type() }}) as connected_account_id
    from {{ ref('stg_stripe__refunds') }}
    union all
    select account_id, id, 'dispute', charge_id, null
    from {{ ref('stg_stripe__disputes') }}
    union all
    select account_id, id, 'application_fee', charge_id, connected_account_id
    from {{ ref('stg_stripe__application_fees') }}
    union all
    select account_id, id, 'transfer', null, destination_id
    from {{ ref('stg_stripe__transfers') }}

),

charges as (

    select account_id, id, customer_id from {{ ref('stg_stripe__charges') }}

),

linked as (

    select
        typed.*,
        case when typed.source_type = 'charge' then typed.source_id else source_objects.charge_id end as charge_id,
        source_objects.connected_account_id
    from typed
    left join source_objects
        on source_objects.account_id = typed.account_id
        and source_objects.source_type = typed.source_type
        and source_objects.id = typed.source_id

),

-- The customer is the charge's, on the account that holds the charge: an application fee's
-- charge is the connected account's, with the connected account's customer, so it has none here.
final as (

    select
        linked.*,
        charges.customer_id
    from linked
    left join charges
        on charges.account_id = linked.account_id
        and charges.id = linked.charge_id

)

select * from final
