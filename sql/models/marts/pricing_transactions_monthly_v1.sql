-- The balance transactions of each UTC month on the platform and on its connected accounts: the
-- count hosted reporting tools price by, and how much of it counts one movement twice (a
-- platform transfer and the connected account's payment it becomes). Every month from the first
-- to the last with a transaction has a row. Grain: month.
with

balance_transactions as (

    select * from {{ ref('int_activity__balance_transactions_classified') }}

),

per_month as (

    select
        month,
        sum(case when is_platform then 1 else 0 end) as platform_transactions,
        sum(case when is_platform then 0 else 1 end) as connected_account_transactions,
        count(distinct case when not is_platform then account_id end) as connected_accounts_with_transactions,
        sum(case when is_destination_payment then 1 else 0 end) as destination_payment_transactions
    from balance_transactions
    group by 1

),

span as (

    select min(month) as first_month, max(month) as last_month
    from per_month

),

months as (

    select month
    from span
    cross join {{ date_series('span.first_month', 'span.last_month', 'month', 'month') }}

),

final as (

    select
        months.month,
        coalesce(per_month.platform_transactions, 0) as platform_transactions,
        coalesce(per_month.connected_account_transactions, 0) as connected_account_transactions,
        coalesce(per_month.platform_transactions, 0) + coalesce(per_month.connected_account_transactions, 0) as total_transactions,
        coalesce(per_month.connected_accounts_with_transactions, 0) as connected_accounts_with_transactions,
        coalesce(per_month.destination_payment_transactions, 0) as destination_payment_transactions
    from months
    left join per_month
        on per_month.month = months.month

)

select * from final
