-- Stripe payment intents: a payment from a customer, through its attempts (charges) to success or
-- cancellation. The client secret is left out. One row per raw row of stripe_raw.payment_intents,
-- renamed and cast; nothing is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'payment_intents') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['customer', 'text', 'customer_id'],
            ['status', 'text', 'status'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['amount_capturable', 'integer', 'amount_capturable'],
            ['amount_received', 'integer', 'amount_received'],
            ['application_fee_amount', 'integer', 'application_fee_amount'],
            ['capture_method', 'text', 'capture_method'],
            ['confirmation_method', 'text', 'confirmation_method'],
            ['canceled_at', 'timestamp', 'canceled_at'],
            ['cancellation_reason', 'text', 'cancellation_reason'],
            ['latest_charge', 'text', 'latest_charge_id'],
            ['payment_method', 'text', 'payment_method_id'],
            ['description', 'text', 'description'],
            ['receipt_email', 'text', 'receipt_email'],
            ['statement_descriptor', 'text', 'statement_descriptor'],
            ['on_behalf_of', 'text', 'on_behalf_of_id'],
            ['transfer_group', 'text', 'transfer_group'],
            ['transfer_data.destination', 'text', 'transfer_destination_id'],
            ['payment_method_types', 'json', 'payment_method_types'],
            ['last_payment_error', 'json', 'last_payment_error'],
            ['transfer_data', 'json', 'transfer_data'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
