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
        {{ stripe_fields([
            ['email', 'text', 'email'],
            ['name', 'text', 'name'],
            ['description', 'text', 'description'],
            ['phone', 'text', 'phone'],
            ['currency', 'text', 'currency'],
            ['balance', 'integer', 'balance'],
            ['delinquent', 'boolean', 'is_delinquent'],
            ['invoice_settings.default_payment_method', 'text', 'default_payment_method_id'],
            ['default_source', 'text', 'default_source_id'],
            ['invoice_prefix', 'text', 'invoice_prefix'],
            ['tax_exempt', 'text', 'tax_exempt'],
            ['preferred_locales', 'json', 'preferred_locales'],
            ['address', 'json', 'address'],
            ['shipping', 'json', 'shipping'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
