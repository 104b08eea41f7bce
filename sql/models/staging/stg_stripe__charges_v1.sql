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
        {{ stripe_fields([
            ['customer', 'text', 'customer_id'],
            ['payment_intent', 'text', 'payment_intent_id'],
            ['balance_transaction', 'text', 'balance_transaction_id'],
            ['status', 'text', 'status'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['amount_captured', 'integer', 'amount_captured'],
            ['amount_refunded', 'integer', 'amount_refunded'],
            ['application_fee_amount', 'integer', 'application_fee_amount'],
            ['paid', 'boolean', 'is_paid'],
            ['captured', 'boolean', 'is_captured'],
            ['refunded', 'boolean', 'is_refunded'],
            ['disputed', 'boolean', 'is_disputed'],
            ['failure_code', 'text', 'failure_code'],
            ['failure_message', 'text', 'failure_message'],
            ['outcome.type', 'text', 'outcome_type'],
            ['outcome.reason', 'text', 'outcome_reason'],
            ['outcome.network_status', 'text', 'outcome_network_status'],
            ['outcome.risk_level', 'text', 'outcome_risk_level'],
            ['payment_method', 'text', 'payment_method_id'],
            ['payment_method_details.type', 'text', 'payment_method_type'],
            ['description', 'text', 'description'],
            ['receipt_email', 'text', 'receipt_email'],
            ['receipt_number', 'text', 'receipt_number'],
            ['statement_descriptor', 'text', 'statement_descriptor'],
            ['calculated_statement_descriptor', 'text', 'calculated_statement_descriptor'],
            ['failure_balance_transaction', 'text', 'failure_balance_transaction_id'],
            ['application_fee', 'text', 'application_fee_id'],
            ['on_behalf_of', 'text', 'on_behalf_of_id'],
            ['source_transfer', 'text', 'source_transfer_id'],
            ['transfer', 'text', 'transfer_id'],
            ['transfer_group', 'text', 'transfer_group'],
            ['transfer_data.destination', 'text', 'transfer_destination_id'],
            ['payment_method_details', 'json', 'payment_method_details'],
            ['billing_details', 'json', 'billing_details'],
            ['outcome', 'json', 'outcome'],
            ['transfer_data', 'json', 'transfer_data'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
