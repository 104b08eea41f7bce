-- Stripe customers: the people and companies an account bills. One row per raw row of
-- stripe_raw.customers, renamed and cast; nothing is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'customers') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('email') }} as email,
        {{ json_text('name') }} as name,
        {{ json_text('description') }} as description,
        {{ json_text('phone') }} as phone,
        {{ json_text('currency') }} as currency,
        {{ json_integer('balance') }} as balance,
        {{ json_boolean('delinquent') }} as is_delinquent,
        {{ json_text('invoice_settings.default_payment_method') }} as default_payment_method_id,
        {{ json_text('default_source') }} as default_source_id,
        {{ json_text('invoice_prefix') }} as invoice_prefix,
        {{ json_text('tax_exempt') }} as tax_exempt,
        {{ json_nested('preferred_locales') }} as preferred_locales,
        {{ json_nested('address') }} as address,
        {{ json_nested('shipping') }} as shipping,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
