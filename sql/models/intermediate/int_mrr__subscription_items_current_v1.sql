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
        items,
        discounts
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
        {{ json_text('price.recurring.usage_type', 'item') }} as recurring_usage_type,
        item,
        subscriptions.discounts as subscription_discounts
    from subscriptions
    {{ mrr_unnest_json_list('subscriptions.items', 'data', 'item') }}

),

-- What the item bills each period before discounts and tax: metered prices bill usage, not a
-- recurring amount, and count 0, as free prices do.
priced as (

    select
        *,
        case
            when recurring_usage_type = 'licensed' and unit_amount > 0 then unit_amount * coalesce(quantity, 1)
            else 0
        end as period_amount
    from items

),

subscription_amounts as (

    select account_id, subscription_id, sum(period_amount) as subscription_period_amount
    from priced
    group by account_id, subscription_id

),

-- Each discount of an item, its own or its subscription's, with the amount it is taken from: a
-- subscription's discount is shared by its items in proportion to their amounts.
item_discounts as (

    select
        priced.account_id,
        priced.subscription_item_id,
        subscription_amounts.subscription_period_amount as discounted_amount,
        discount
    from priced
    inner join subscription_amounts
        on subscription_amounts.account_id = priced.account_id
        and subscription_amounts.subscription_id = priced.subscription_id
    {{ mrr_unnest_json_list('priced.subscription_discounts', '', 'discount') }}

    union all

    select
        priced.account_id,
        priced.subscription_item_id,
        priced.period_amount as discounted_amount,
        discount
    from priced
    {{ mrr_unnest_json_list('priced.item', 'discounts', 'discount') }}

),

forever_coupons as (

    select account_id, id as coupon_id, percent_off, amount_off
    from {{ ref('stg_stripe__coupons') }}
    where duration = 'forever'

),

-- A discount names its coupon only when Stripe sent it expanded (an id alone names none).
item_coupons as (

    select
        item_discounts.account_id,
        item_discounts.subscription_item_id,
        item_discounts.discounted_amount,
        forever_coupons.percent_off,
        forever_coupons.amount_off
    from item_discounts
    inner join forever_coupons
        on forever_coupons.account_id = item_discounts.account_id
        and forever_coupons.coupon_id = coalesce(
            {{ json_text('source.coupon.id', 'item_discounts.discount') }},
            {{ json_text('coupon.id', 'item_discounts.discount') }},
            {{ json_text('source.coupon', 'item_discounts.discount') }}
        )

),

-- The share of the period amount an item keeps, as a fraction kept / whole: undiscounted,
-- and after each forever coupon.
kept_shares as (

    select account_id, subscription_item_id, 1 as kept, 1 as whole
    from priced

    union all

    select
        account_id,
        subscription_item_id,
        case
            when percent_off is not null then 10000 - cast(round(percent_off * 100) as bigint)
            when discounted_amount > amount_off then discounted_amount - amount_off
            else 0
        end as kept,
        case
            when percent_off is not null then 10000
            when discounted_amount > 0 then discounted_amount
            else 1
        end as whole
    from item_coupons

),

-- An item's MRR, rounded once to an integer in minor units; with several forever coupons the
-- largest reduction counts (Stripe's stacking of discounts is not modelled).
item_mrr as (

    select
        priced.account_id,
        priced.subscription_item_id,
        min({{ mrr_rounded_division(
            'priced.period_amount * kept_shares.kept * ' ~ mrr_month_numerator('priced.recurring_interval'),
            'kept_shares.whole * ' ~ mrr_month_denominator('priced.recurring_interval', 'coalesce(priced.recurring_interval_count, 1)')
        ) }}) as mrr
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
