-- Stripe prices: how much a product costs, once or on a recurring interval. One row per raw row of
-- stripe_raw.prices, renamed and cast; nothing is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'prices') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('product') }} as product_id,
        {{ json_boolean('active') }} as is_active,
        {{ json_text('currency') }} as currency,
        {{ json_integer('unit_amount') }} as unit_amount,
        {{ json_text('unit_amount_decimal') }} as unit_amount_decimal,
        {{ json_text('type') }} as type,
        {{ json_text('billing_scheme') }} as billing_scheme,
        {{ json_text('tiers_mode') }} as tiers_mode,
        {{ json_text('recurring.interval') }} as recurring_interval,
        {{ json_integer('recurring.interval_count') }} as recurring_interval_count,
        {{ json_text('recurring.usage_type') }} as recurring_usage_type,
        {{ json_integer('recurring.trial_period_days') }} as recurring_trial_period_days,
        {{ json_text('nickname') }} as nickname,
        {{ json_text('lookup_key') }} as lookup_key,
        {{ json_text('tax_behavior') }} as tax_behavior,
        {{ json_nested('transform_quantity') }} as transform_quantity,
        {{ json_nested('custom_unit_amount') }} as custom_unit_amount,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
