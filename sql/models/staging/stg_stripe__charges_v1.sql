-- Stripe charges: each attempt to move money from a customer's payment method, succeeded or
-- failed. One row per raw row of stripe_raw.charges, renamed and cast; nothing is filtered
-- (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'charges') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('customer') }} as customer_id,
        {{ json_text('payment_intent') }} as payment_intent_id,
        {{ json_text('balance_transaction') }} as balance_transaction_id,
        {{ json_text('status') }} as status,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_integer('amount_captured') }} as amount_captured,
        {{ json_integer('amount_refunded') }} as amount_refunded,
        {{ json_integer('application_fee_amount') }} as application_fee_amount,
        {{ json_boolean('paid') }} as is_paid,
        {{ json_boolean('captured') }} as is_captured,
        {{ json_boolean('refunded') }} as is_refunded,
        {{ json_boolean('disputed') }} as is_disputed,
        {{ json_text('failure_code') }} as failure_code,
        {{ json_text('failure_message') }} as failure_message,
        {{ json_text('outcome.type') }} as outcome_type,
        {{ json_text('outcome.reason') }} as outcome_reason,
        {{ json_text('outcome.network_status') }} as outcome_network_status,
        {{ json_text('outcome.risk_level') }} as outcome_risk_level,
        {{ json_text('payment_method') }} as payment_method_id,
        {{ json_text('payment_method_details.type') }} as payment_method_type,
        {{ json_text('description') }} as description,
        {{ json_text('receipt_email') }} as receipt_email,
        {{ json_text('receipt_number') }} as receipt_number,
        {{ json_text('statement_descriptor') }} as statement_descriptor,
        {{ json_text('calculated_statement_descriptor') }} as calculated_statement_descriptor,
        {{ json_text('failure_balance_transaction') }} as failure_balance_transaction_id,
        {{ json_text('application_fee') }} as application_fee_id,
        {{ json_text('on_behalf_of') }} as on_behalf_of_id,
        {{ json_text('source_transfer') }} as source_transfer_id,
        {{ json_text('transfer') }} as transfer_id,
        {{ json_text('transfer_group') }} as transfer_group,
        {{ json_text('transfer_data.destination') }} as transfer_destination_id,
        {{ json_nested('payment_method_details') }} as payment_method_details,
        {{ json_nested('billing_details') }} as billing_details,
        {{ json_nested('outcome') }} as outcome,
        {{ json_nested('transfer_data') }} as transfer_data,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
