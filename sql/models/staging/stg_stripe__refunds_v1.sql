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
        {{ json_text('charge') }} as charge_id,
        {{ json_text('payment_intent') }} as payment_intent_id,
        {{ json_text('balance_transaction') }} as balance_transaction_id,
        {{ json_text('status') }} as status,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_text('reason') }} as reason,
        {{ json_text('failure_reason') }} as failure_reason,
        {{ json_text('description') }} as description,
        {{ json_text('receipt_number') }} as receipt_number,
        {{ json_text('failure_balance_transaction') }} as failure_balance_transaction_id,
        {{ json_text('source_transfer_reversal') }} as source_transfer_reversal_id,
        {{ json_text('transfer_reversal') }} as transfer_reversal_id,
        {{ json_nested('destination_details') }} as destination_details,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
