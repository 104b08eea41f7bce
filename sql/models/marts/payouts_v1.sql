-- One row per payout, with the count and sums of the balance transactions it paid out (its own
-- transaction, the withdrawal, left out: for an automatic payout their net adds up to its
-- amount). Grain: (account_id, payout_id).
with

payouts as (

    select * from {{ ref('stg_stripe__payouts') }}
    where not is_deleted

),

paid_out as (

    select
        account_id,
        payout_id,
        count(*) as balance_transactions,
        sum(amount) as balance_transactions_amount,
        sum(fee) as balance_transactions_fee,
        sum(net) as balance_transactions_net
    from {{ ref('payout_balance_transactions') }}
    where not is_payout_itself
    group by account_id, payout_id

),

final as (

    select
        payouts.account_id,
        payouts.is_platform,
        payouts.id as payout_id,
        payouts.created_at,
        payouts.arrival_date_at,
        payouts.status,
        payouts.is_automatic,
        payouts.type,
        payouts.method,
        payouts.currency,
        payouts.amount,
        payouts.balance_transaction_id,
        payouts.failure_balance_transaction_id,
        payouts.failure_code,
        -- Only an automatic payout's transactions are known (a manual one sends an amount, not funds).
        case when payouts.is_automatic then coalesce(paid_out.balance_transactions, 0) end as balance_transactions,
        case when payouts.is_automatic then coalesce(paid_out.balance_transactions_amount, 0) end as balance_transactions_amount,
        case when payouts.is_automatic then coalesce(paid_out.balance_transactions_fee, 0) end as balance_transactions_fee,
        case when payouts.is_automatic then coalesce(paid_out.balance_transactions_net, 0) end as balance_transactions_net
    from payouts
    left join paid_out
        on paid_out.account_id = payouts.account_id
        and paid_out.payout_id = payouts.id

)

select * from final
