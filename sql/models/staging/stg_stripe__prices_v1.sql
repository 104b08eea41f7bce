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
        {{ stripe_fields([
            ['product', 'text', 'product_id'],
            ['active', 'boolean', 'is_active'],
            ['currency', 'text', 'currency'],
            ['unit_amount', 'integer', 'unit_amount'],
            ['unit_amount_decimal', 'text', 'unit_amount_decimal'],
            ['type', 'text', 'type'],
            ['billing_scheme', 'text', 'billing_scheme'],
            ['tiers_mode', 'text', 'tiers_mode'],
            ['recurring.interval', 'text', 'recurring_interval'],
            ['recurring.interval_count', 'integer', 'recurring_interval_count'],
            ['recurring.usage_type', 'text', 'recurring_usage_type'],
            ['recurring.trial_period_days', 'integer', 'recurring_trial_period_days'],
            ['nickname', 'text', 'nickname'],
            ['lookup_key', 'text', 'lookup_key'],
            ['tax_behavior', 'text', 'tax_behavior'],
            ['transform_quantity', 'json', 'transform_quantity'],
            ['custom_unit_amount', 'json', 'custom_unit_amount'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
