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
        {{ json_text('customer') }} as customer_id,
        {{ json_text('status') }} as status,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_integer('amount_capturable') }} as amount_capturable,
        {{ json_integer('amount_received') }} as amount_received,
        {{ json_integer('application_fee_amount') }} as application_fee_amount,
        {{ json_text('capture_method') }} as capture_method,
        {{ json_text('confirmation_method') }} as confirmation_method,
        {{ json_timestamp('canceled_at') }} as canceled_at,
        {{ json_text('cancellation_reason') }} as cancellation_reason,
        {{ json_text('latest_charge') }} as latest_charge_id,
        {{ json_text('payment_method') }} as payment_method_id,
        {{ json_text('description') }} as description,
        {{ json_text('receipt_email') }} as receipt_email,
        {{ json_text('statement_descriptor') }} as statement_descriptor,
        {{ json_text('on_behalf_of') }} as on_behalf_of_id,
        {{ json_text('transfer_group') }} as transfer_group,
        {{ json_text('transfer_data.destination') }} as transfer_destination_id,
        {{ json_nested('payment_method_types') }} as payment_method_types,
        {{ json_nested('last_payment_error') }} as last_payment_error,
        {{ json_nested('transfer_data') }} as transfer_data,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
