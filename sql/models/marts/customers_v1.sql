-- Each customer of each account (the platform's and every connected account's), with what it
-- paid and cost, one row per currency it has money in: amounts are never added across
-- currencies. A customer without charges, balance transactions or subscriptions has one row,
-- with currency null. Grain: (account_id, customer_id, currency).
with

customer_records as (

    select
        account_id,
        is_platform,
        id as customer_id,
        created_at,
        email,
        name,
        is_deleted
    from {{ ref('stg_stripe__customers') }}

),

charges as (

    select
        account_id,
        is_platform,
        id as charge_id,
        customer_id,
        currency,
        amount,
        status,
        created_at
    from {{ ref('stg_stripe__charges') }}
    where customer_id is not null and not is_deleted

),

-- Refunds and disputes belong to the customer of their charge.
charge_children as (

    select account_id, id, charge_id, 'refund' as kind, currency, amount, status
    from {{ ref('stg_stripe__refunds') }}
    where not is_deleted
    union all
    select account_id, id, charge_id, 'dispute' as kind, currency, amount, status
    from {{ ref('stg_stripe__disputes') }}
    where not is_deleted

),

customer_charge_children as (

    select
        charge_children.account_id,
        charge_children.id,
        charges.customer_id,
        charge_children.kind,
        charge_children.currency,
        charge_children.amount,
        charge_children.status
    from charge_children
    inner join charges
        on charges.account_id = charge_children.account_id
        and charges.charge_id = charge_children.charge_id

),

refunds as (

    select * from customer_charge_children where kind = 'refund'

),

-- A balance transaction is the customer's when its source is the customer's charge, refund or
-- dispute (a dispute's withdrawal and reinstatement); in the balance's currency.
customer_sources as (

    select account_id, charge_id as source_id, customer_id from charges
    union all
    select account_id, id as source_id, customer_id from customer_charge_children

),

balance_transactions as (

    select
        balance_transactions.account_id,
        customer_sources.customer_id,
        balance_transactions.currency,
        balance_transactions.fee,
        balance_transactions.net
    from {{ ref('stg_stripe__balance_transactions') }} as balance_transactions
    inner join customer_sources
        on customer_sources.account_id = balance_transactions.account_id
        and customer_sources.source_id = balance_transactions.source_id
    where not balance_transactions.is_deleted

),

subscriptions as (

    select
        account_id,
        is_platform,
        id as subscription_id,
        customer_id,
        currency,
        status
    from {{ ref('stg_stripe__subscriptions') }}
    where customer_id is not null and not is_deleted

),

charge_totals as (

    select
        account_id,
        customer_id,
        currency,
        sum(case when status = 'succeeded' then 1 else 0 end) as succeeded_charges,
        sum(case when status = 'succeeded' then amount else 0 end) as sales_amount,
        sum(case when status = 'failed' then 1 else 0 end) as failed_charges,
        min(case when status = 'succeeded' then created_at end) as first_payment_at,
        max(case when status = 'succeeded' then created_at end) as last_payment_at
    from charges
    group by 1, 2, 3

),

refund_totals as (

    -- A failed or canceled refund returned nothing.
    select
        account_id,
        customer_id,
        currency,
        count(*) as refunds,
        sum(amount) as refunded_amount
    from refunds
    where status not in ('failed', 'canceled')
    group by 1, 2, 3

),

balance_totals as (

    select
        account_id,
        customer_id,
        currency,
        sum(fee) as fees,
        sum(net) as net
    from balance_transactions
    group by 1, 2, 3

),

subscription_totals as (

    -- Active: the statuses that count toward MRR (Stripe Billing's active and past_due).
    select
        account_id,
        customer_id,
        currency,
        count(*) as active_subscriptions
    from subscriptions
    where status in ('active', 'past_due')
    group by 1, 2, 3

),

mrr_totals as (

    select
        account_id,
        customer_id,
        currency,
        sum(mrr) as mrr
    from {{ ref('int_mrr__subscription_items_current') }}
    group by 1, 2, 3

),

-- Every customer the warehouse holds, and every one a charge or subscription names (a customer
-- deleted before the first load, which Stripe no longer lists, or created before its start).
customer_ids as (

    select account_id, is_platform, customer_id from customer_records
    union distinct
    select account_id, is_platform, customer_id from charges
    union distinct
    select account_id, is_platform, customer_id from subscriptions

),

customer_currencies as (

    {% for relation in ['charges', 'refunds', 'balance_transactions', 'subscriptions'] -%}
    select account_id, customer_id, currency from {{ relation }}
    {% if not loop.last %}union distinct
    {% endif -%}
    {%- endfor %}

),

final as (

    select
        customer_ids.account_id,
        customer_ids.is_platform,
        customer_ids.customer_id,
        customer_currencies.currency,
        customer_records.created_at as customer_created_at,
        customer_records.email,
        customer_records.name,
        customer_records.is_deleted,
        coalesce(charge_totals.succeeded_charges, 0) as succeeded_charges,
        coalesce(charge_totals.sales_amount, 0) as sales_amount,
        coalesce(refund_totals.refunds, 0) as refunds,
        coalesce(refund_totals.refunded_amount, 0) as refunded_amount,
        coalesce(balance_totals.fees, 0) as fees,
        coalesce(balance_totals.net, 0) as net,
        charge_totals.first_payment_at,
        charge_totals.last_payment_at,
        coalesce(charge_totals.failed_charges, 0) as failed_charges,
        coalesce(subscription_totals.active_subscriptions, 0) as active_subscriptions,
        coalesce(mrr_totals.mrr, 0) as mrr
    from customer_ids
    left join customer_records
        on customer_records.account_id = customer_ids.account_id
        and customer_records.customer_id = customer_ids.customer_id
    left join customer_currencies
        on customer_currencies.account_id = customer_ids.account_id
        and customer_currencies.customer_id = customer_ids.customer_id
    {%- for totals in ['charge_totals', 'refund_totals', 'balance_totals', 'subscription_totals', 'mrr_totals'] %}
    left join {{ totals }}
        on {{ totals }}.account_id = customer_ids.account_id
        and {{ totals }}.customer_id = customer_ids.customer_id
        and {{ totals }}.currency = customer_currencies.currency
    {%- endfor %}

)

select * from final
