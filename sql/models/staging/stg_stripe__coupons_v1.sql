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
        {{ stripe_fields([
            ['name', 'text', 'name'],
            ['duration', 'text', 'duration'],
            ['duration_in_months', 'integer', 'duration_in_months'],
            ['percent_off', 'float', 'percent_off'],
            ['amount_off', 'integer', 'amount_off'],
            ['currency', 'text', 'currency'],
            ['max_redemptions', 'integer', 'max_redemptions'],
            ['times_redeemed', 'integer', 'times_redeemed'],
            ['redeem_by', 'timestamp', 'redeem_by_at'],
            ['valid', 'boolean', 'is_valid'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
