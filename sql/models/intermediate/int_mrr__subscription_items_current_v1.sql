-- The current MRR of each subscription item, by Stripe's definition: items of active and
-- past_due subscriptions, as each account was last synced; the rules are in the YAML.
with

subscriptions as (

    select
        account_id,
        id as subscription_id,
        customer_id,
        currency,
        status,
        items
    from {{ ref('stg_stripe__subscriptions') }}
    where not is_deleted
        and status in ('active', 'past_due')

),

items as (

    select
        subscriptions.account_id,
        subscriptions.subscription_id,
        subscriptions.customer_id,
        subscriptions.currency,
        subscriptions.status,
        {{ json_text('id', 'item') }} as subscription_item_id,
        {{ json_text('price.id', 'item') }} as price_id,
        {{ json_integer('quantity', 'item') }} as quantity,
        {{ json_integer('price.unit_amount', 'item') }} as unit_amount,
        {{ json_text('price.recurring.interval', 'item') }} as recurring_interval,
        {{ json_integer('price.recurring.interval_count', 'item') }} as recurring_interval_count,
        {{ json_text('price.recurring.usage_type', 'item') }} as recurring_usage_type
    from subscriptions
    {{ mrr_unnest_json_list('subscriptions.items', 'data', 'item') }}

),

priced as (

    select
        *,
        {{ mrr_period_amount('recurring_usage_type', 'unit_amount', 'quantity') }} as period_amount
    from items

),

-- The share of the period amount an item keeps: all of it, or what each forever coupon leaves.
kept_shares as (

    select account_id, subscription_item_id, 1 as kept, 1 as whole
    from priced

    union all

    select account_id, subscription_item_id, kept, whole
    from {{ ref('int_mrr__subscription_item_forever_discounts') }}

),

-- With several forever coupons on an item, the largest reduction counts.
item_mrr as (

    select
        priced.account_id,
        priced.subscription_item_id,
        min({{ mrr_monthly_amount('priced.period_amount', 'kept_shares.kept', 'kept_shares.whole', 'priced.recurring_interval', 'priced.recurring_interval_count') }}) as mrr
    from priced
    inner join kept_shares
        on kept_shares.account_id = priced.account_id
        and kept_shares.subscription_item_id = priced.subscription_item_id
    group by priced.account_id, priced.subscription_item_id

),

final as (

    select
        priced.account_id,
        priced.subscription_id,
        priced.subscription_item_id,
        priced.customer_id,
        priced.currency,
        priced.status,
        priced.price_id,
        priced.quantity,
        priced.recurring_interval,
        priced.recurring_interval_count,
        priced.recurring_usage_type,
        priced.period_amount,
        item_mrr.mrr
    from priced
    inner join item_mrr
        on item_mrr.account_id = priced.account_id
        and item_mrr.subscription_item_id = priced.subscription_item_id

)

select * from final
