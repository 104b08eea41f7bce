-- Each account's balance transactions of each UTC month (the platform's and every connected
-- account's), in all and by Stripe's reporting category. Only months with transactions have a
-- row. Grain: (account_id, month).
with

balance_transactions as (

    select * from {{ ref('int_activity__balance_transactions_classified') }}

),

final as (

    select
        month,
        account_id,
        is_platform,
        count(*) as transactions,
        sum(case when transactions_category = 'charge' then 1 else 0 end) as charge_transactions,
        sum(case when transactions_category = 'refund' then 1 else 0 end) as refund_transactions,
        sum(case when transactions_category = 'dispute' then 1 else 0 end) as dispute_transactions,
        sum(case when transactions_category = 'payout' then 1 else 0 end) as payout_transactions,
        sum(case when transactions_category = 'transfer' then 1 else 0 end) as transfer_transactions,
        sum(case when transactions_category = 'fee' then 1 else 0 end) as fee_transactions,
        sum(case when transactions_category = 'platform_earning' then 1 else 0 end) as platform_earning_transactions,
        sum(case when transactions_category = 'other' then 1 else 0 end) as other_transactions
    from balance_transactions
    group by 1, 2, 3

)

select * from final
