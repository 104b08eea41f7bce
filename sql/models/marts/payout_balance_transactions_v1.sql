-- Payout × balance transaction: the funds each automatic payout sent, as Stripe lists them with
-- GET /v1/balance_transactions?payout=po_… (the payout's own transaction included, marked), by
-- the rule of int_ledger__payout_sweeps. Grain: (account_id, payout_id, balance_transaction_id).
with

ledger as (

    select * from {{ ref('balance_transactions') }}
    where payout_id is not null

),

payouts as (

    select account_id, id, balance_transaction_id from {{ ref('stg_stripe__payouts') }}

),

final as (

    select
        ledger.account_id,
        ledger.is_platform,
        ledger.payout_id,
        ledger.balance_transaction_id,
        coalesce(payouts.balance_transaction_id = ledger.balance_transaction_id, false) as is_payout_itself,
        ledger.currency,
        ledger.amount,
        ledger.fee,
        ledger.net
    from ledger
    inner join payouts
        on payouts.account_id = ledger.account_id
        and payouts.id = ledger.payout_id

)

select * from final
