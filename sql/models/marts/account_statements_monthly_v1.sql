-- What a monthly statement shows, for every account (the platform and each connected account)
-- and each currency of its balance: the month's balance transactions by what they are, and the
-- balance they leave. A transaction counts in the month it was created (UTC), pending or not:
-- balances are Stripe's whole balance (available and pending). Every month from an account's
-- first to its last month with a transaction in the currency is present (zeros where nothing
-- happened), so that each month's starting balance is the previous month's ending balance.
-- Grain: (month, account_id, currency).
with

balance_transactions as (

    select * from {{ ref('balance_transactions') }}

),

-- What the platform took from a connected account's charge: the application fee on that charge
-- (a part of the charge's fee).
application_fees as (

    select connected_account_id, charge_id, amount from {{ ref('stg_stripe__application_fees') }}

),

itemized as (

    select
        balance_transactions.account_id,
        balance_transactions.is_platform,
        balance_transactions.currency,
        {{ month_start(utc_date('balance_transactions.created_at')) }} as month,
        balance_transactions.reporting_category,
        balance_transactions.amount,
        balance_transactions.fee,
        balance_transactions.net,
        coalesce(application_fees.amount, 0) as application_fee_paid
    from balance_transactions
    left join application_fees
        on balance_transactions.type = 'charge'
        and application_fees.connected_account_id = balance_transactions.account_id
        and application_fees.charge_id = balance_transactions.charge_id

),

monthly as (

    select
        account_id,
        is_platform,
        currency,
        month,
        count(*) as transactions,
        sum(case when reporting_category = 'charge' then amount else 0 end) as gross_volume,
        sum(case when reporting_category in ('refund', 'refund_failure') then amount else 0 end) as refunds,
        sum(case when reporting_category in ('dispute', 'dispute_reversal') then amount else 0 end) as disputes,
        sum(case when reporting_category in ('transfer', 'transfer_reversal') then amount else 0 end) as transfers,
        sum(case when reporting_category in ('platform_earning', 'platform_earning_refund') then amount else 0 end) as application_fees_earned,
        sum(case when reporting_category in ('payout', 'payout_reversal') then amount else 0 end) as payouts,
        sum(case
            when reporting_category in (
                'charge', 'refund', 'refund_failure', 'dispute', 'dispute_reversal', 'transfer', 'transfer_reversal',
                'platform_earning', 'platform_earning_refund', 'payout', 'payout_reversal'
            ) then 0
            else amount
        end) as other,
        sum(fee) as fees,
        sum(application_fee_paid) as application_fees_paid,
        sum(net) as net
    from itemized
    group by account_id, is_platform, currency, month

),

account_currencies as (

    select
        account_id,
        is_platform,
        currency,
        min(month) as first_month,
        max(month) as last_month
    from monthly
    group by account_id, is_platform, currency

),

months as (

    select
        account_currencies.account_id,
        account_currencies.is_platform,
        account_currencies.currency,
        month
    from account_currencies
    cross join {{ date_series('account_currencies.first_month', 'account_currencies.last_month', 'month', 'month') }}

),

filled as (

    select
        months.month,
        months.account_id,
        months.is_platform,
        months.currency,
        coalesce(monthly.transactions, 0) as transactions,
        coalesce(monthly.gross_volume, 0) as gross_volume,
        coalesce(monthly.refunds, 0) as refunds,
        coalesce(monthly.disputes, 0) as disputes,
        coalesce(monthly.transfers, 0) as transfers,
        coalesce(monthly.application_fees_earned, 0) as application_fees_earned,
        coalesce(monthly.payouts, 0) as payouts,
        coalesce(monthly.other, 0) as other,
        coalesce(monthly.fees, 0) as fees,
        coalesce(monthly.application_fees_paid, 0) as application_fees_paid,
        coalesce(monthly.net, 0) as net
    from months
    left join monthly
        on monthly.account_id = months.account_id
        and monthly.currency = months.currency
        and monthly.month = months.month

),

final as (

    select
        *,
        coalesce(sum(net) over (
            partition by account_id, currency order by month rows between unbounded preceding and 1 preceding
        ), 0) as starting_balance,
        sum(net) over (
            partition by account_id, currency order by month rows between unbounded preceding and current row
        ) as ending_balance
    from filled

)

select * from final
