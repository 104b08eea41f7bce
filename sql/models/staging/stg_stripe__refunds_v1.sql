-- Stripe refunds of charges, in full or in part. One row per raw row of stripe_raw.refunds,
-- renamed and cast; nothing is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'refunds') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['charge', 'text', 'charge_id'],
            ['payment_intent', 'text', 'payment_intent_id'],
            ['balance_transaction', 'text', 'balance_transaction_id'],
            ['status', 'text', 'status'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['reason', 'text', 'reason'],
            ['failure_reason', 'text', 'failure_reason'],
            ['description', 'text', 'description'],
            ['receipt_number', 'text', 'receipt_number'],
            ['failure_balance_transaction', 'text', 'failure_balance_transaction_id'],
            ['source_transfer_reversal', 'text', 'source_transfer_reversal_id'],
            ['transfer_reversal', 'text', 'transfer_reversal_id'],
            ['destination_details', 'json', 'destination_details'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
