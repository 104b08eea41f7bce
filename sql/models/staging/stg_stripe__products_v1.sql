-- Stripe products: the goods and services an account sells, priced by prices. One row per raw row
-- of stripe_raw.products, renamed and cast; nothing is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'products') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['name', 'text', 'name'],
            ['description', 'text', 'description'],
            ['active', 'boolean', 'is_active'],
            ['type', 'text', 'type'],
            ['default_price', 'text', 'default_price_id'],
            ['unit_label', 'text', 'unit_label'],
            ['statement_descriptor', 'text', 'statement_descriptor'],
            ['tax_code', 'text', 'tax_code'],
            ['shippable', 'boolean', 'is_shippable'],
            ['url', 'text', 'url'],
            ['updated', 'timestamp', 'updated_at'],
            ['images', 'json', 'images'],
            ['marketing_features', 'json', 'marketing_features'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
