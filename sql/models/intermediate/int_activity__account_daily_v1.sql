-- An account's activity of one UTC day in one currency, only for the days (and currencies) it had
-- any: charges, refunds, disputes, balance transactions (fees, net), payouts, the platform's
-- application fees, new customers. Each object counts on the day it was created, in its own
-- currency; objects marked deleted are left out. Grain: (account_id, currency, day).
-- account_activity_daily fills the gaps; account_summary sums it.
with

connected_accounts as (

    select id as account_id, default_currency
    from {{ ref('stg_stripe__accounts') }}

),

customers as (

    -- A customer has no amount: it counts in the currency it is billed in (Stripe's
    -- customer.currency), else in its account's default currency.
    select
        customers.account_id,
        customers.is_platform,
        coalesce(customers.currency, connected_accounts.default_currency) as currency,
        customers.created_at
    from {{ ref('stg_stripe__customers') }} as customers
    left join connected_accounts
        on connected_accounts.account_id = customers.account_id
    where not customers.is_deleted

),

-- One row per object counted, whatever its kind, with the amounts the day's figures add up.
objects as (

    select account_id, is_platform, currency, created_at, 'charge' as kind, status, amount, 0 as fee, 0 as net
    from {{ ref('stg_stripe__charges') }}
    where not is_deleted
    union all
    select account_id, is_platform, currency, created_at, 'refund' as kind, status, amount, 0 as fee, 0 as net
    from {{ ref('stg_stripe__refunds') }}
    -- A failed or canceled refund returned nothing.
    where not is_deleted and status not in ('failed', 'canceled')
    union all
    select account_id, is_platform, currency, created_at, 'dispute' as kind, status, amount, 0 as fee, 0 as net
    from {{ ref('stg_stripe__disputes') }}
    where not is_deleted
    union all
    select account_id, is_platform, currency, created_at, 'balance_transaction' as kind, status, amount, fee, net
    from {{ ref('stg_stripe__balance_transactions') }}
    where not is_deleted
    union all
    select account_id, is_platform, currency, created_at, 'payout' as kind, status, amount, 0 as fee, 0 as net
    from {{ ref('stg_stripe__payouts') }}
    where not is_deleted
    union all
    -- The platform's: each fee is a row of the platform, in the currency of the charge it was taken from.
    select account_id, is_platform, currency, created_at, 'application_fee' as kind, null as status, amount, 0 as fee, 0 as net
    from {{ ref('stg_stripe__application_fees') }}
    where not is_deleted
    union all
    select account_id, is_platform, currency, created_at, 'customer' as kind, null as status, 0 as amount, 0 as fee, 0 as net
    from customers
    where currency is not null

),

final as (

    select
        account_id,
        is_platform,
        currency,
        {{ utc_date('created_at') }} as day,
        sum(case when kind = 'charge' then 1 else 0 end) as charges,
        sum(case when kind = 'charge' and status = 'succeeded' then 1 else 0 end) as succeeded_charges,
        sum(case when kind = 'charge' and status = 'failed' then 1 else 0 end) as failed_charges,
        sum(case when kind = 'charge' and status = 'succeeded' then amount else 0 end) as gross_volume,
        sum(case when kind = 'refund' then 1 else 0 end) as refunds,
        sum(case when kind = 'refund' then amount else 0 end) as refunded_amount,
        sum(case when kind = 'dispute' then 1 else 0 end) as disputes,
        sum(case when kind = 'dispute' then amount else 0 end) as disputed_amount,
        sum(case when kind = 'balance_transaction' then 1 else 0 end) as balance_transactions,
        sum(fee) as fees,
        sum(net) as net,
        sum(case when kind = 'payout' then 1 else 0 end) as payouts,
        sum(case when kind = 'payout' then amount else 0 end) as payout_amount,
        sum(case when kind = 'application_fee' then 1 else 0 end) as application_fees,
        sum(case when kind = 'application_fee' then amount else 0 end) as application_fee_amount,
        sum(case when kind = 'customer' then 1 else 0 end) as new_customers
    from objects
    group by 1, 2, 3, 4

)

select * from final
