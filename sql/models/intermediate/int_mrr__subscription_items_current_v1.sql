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

-- With forever coupons, the largest reduction counts (a coupon never raises an amount).
item_mrr as (

    {{ mrr_after_forever_coupons('priced', ['account_id', 'subscription_item_id'], ref('int_mrr__subscription_item_forever_discounts')) }}

),

final as (

    select
        priced.*,
        item_mrr.mrr
    from priced
    inner join item_mrr
        on item_mrr.account_id = priced.account_id
        and item_mrr.subscription_item_id = priced.subscription_item_id

)

select * from final
