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
        {{ json_text('name') }} as name,
        {{ json_text('description') }} as description,
        {{ json_boolean('active') }} as is_active,
        {{ json_text('type') }} as type,
        {{ json_text('default_price') }} as default_price_id,
        {{ json_text('unit_label') }} as unit_label,
        {{ json_text('statement_descriptor') }} as statement_descriptor,
        {{ json_text('tax_code') }} as tax_code,
        {{ json_boolean('shippable') }} as is_shippable,
        {{ json_text('url') }} as url,
        {{ json_timestamp('updated') }} as updated_at,
        {{ json_nested('images') }} as images,
        {{ json_nested('marketing_features') }} as marketing_features,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
