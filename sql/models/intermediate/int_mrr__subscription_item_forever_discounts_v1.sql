-- Each forever coupon that reduces a subscription item's MRR, as the share of the item's amount
-- it leaves (kept / whole); the rules are in the YAML.
with

subscriptions as (

    select account_id, id as subscription_id, items, discounts
    from {{ ref('stg_stripe__subscriptions') }}
    where not is_deleted

),

items as (

    select
        subscriptions.account_id,
        subscriptions.subscription_id,
        {{ json_text('id', 'item') }} as subscription_item_id,
        {{ mrr_period_amount(
            json_text('price.recurring.usage_type', 'item'),
            json_integer('price.unit_amount', 'item'),
            json_integer('quantity', 'item')
        ) }} as period_amount,
        item,
        subscriptions.discounts as subscription_discounts
    from subscriptions
    {{ mrr_unnest_json_list('subscriptions.items', 'data', 'item') }}

),

subscription_amounts as (

    select account_id, subscription_id, sum(period_amount) as subscription_period_amount
    from items
    group by account_id, subscription_id

),

-- Each discount of an item, its own or its subscription's, with the amount it is taken from: a
-- subscription's discount is shared by its items in proportion to their amounts.
item_discounts as (

    select
        items.account_id,
        items.subscription_id,
        items.subscription_item_id,
        subscription_amounts.subscription_period_amount as discounted_amount,
        discount
    from items
    inner join subscription_amounts
        on subscription_amounts.account_id = items.account_id
        and subscription_amounts.subscription_id = items.subscription_id
    {{ mrr_unnest_json_list('items.subscription_discounts', '', 'discount') }}

    union all

    select
        items.account_id,
        items.subscription_id,
        items.subscription_item_id,
        items.period_amount as discounted_amount,
        discount
    from items
    {{ mrr_unnest_json_list('items.item', 'discounts', 'discount') }}

),

forever_coupons as (

    select account_id, id as coupon_id, percent_off, amount_off
    from {{ ref('stg_stripe__coupons') }}
    where duration = 'forever'

),

-- A discount names its coupon only when Stripe sent it expanded (an id alone names none).
final as (

    select
        item_discounts.account_id,
        item_discounts.subscription_id,
        item_discounts.subscription_item_id,
        {{ json_text('id', 'item_discounts.discount') }} as discount_id,
        forever_coupons.coupon_id,
        {{ epoch_to_timestamp(json_integer('start', 'item_discounts.discount')) }} as discount_start_at,
        case
            when forever_coupons.percent_off is not null then 10000 - cast(round(forever_coupons.percent_off * 100) as bigint)
            when item_discounts.discounted_amount > forever_coupons.amount_off then item_discounts.discounted_amount - forever_coupons.amount_off
            else 0
        end as kept,
        case
            when forever_coupons.percent_off is not null then 10000
            when item_discounts.discounted_amount > 0 then item_discounts.discounted_amount
            else 1
        end as whole
    from item_discounts
    inner join forever_coupons
        on forever_coupons.account_id = item_discounts.account_id
        and forever_coupons.coupon_id = coalesce(
            {{ json_text('source.coupon.id', 'item_discounts.discount') }},
            {{ json_text('coupon.id', 'item_discounts.discount') }},
            {{ json_text('source.coupon', 'item_discounts.discount') }}
        )

)

select * from final
