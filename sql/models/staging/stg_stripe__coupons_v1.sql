-- Stripe coupons: discounts that apply to invoices and subscriptions. A coupon's id is chosen by
-- the account (no prefix). One row per raw row of stripe_raw.coupons, renamed and cast; nothing is
-- filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'coupons') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('name') }} as name,
        {{ json_text('duration') }} as duration,
        {{ json_integer('duration_in_months') }} as duration_in_months,
        {{ json_float('percent_off') }} as percent_off,
        {{ json_integer('amount_off') }} as amount_off,
        {{ json_text('currency') }} as currency,
        {{ json_integer('max_redemptions') }} as max_redemptions,
        {{ json_integer('times_redeemed') }} as times_redeemed,
        {{ json_timestamp('redeem_by') }} as redeem_by_at,
        {{ json_boolean('valid') }} as is_valid,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
