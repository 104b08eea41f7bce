-- Stripe disputes: a customer contesting a charge with their bank. One row per raw row of
-- stripe_raw.disputes, renamed and cast; nothing is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'disputes') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('charge') }} as charge_id,
        {{ json_text('payment_intent') }} as payment_intent_id,
        {{ json_text('status') }} as status,
        {{ json_text('reason') }} as reason,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_boolean('is_charge_refundable') }} as is_charge_refundable,
        {{ json_timestamp('evidence_details.due_by') }} as evidence_due_by_at,
        {{ json_integer('evidence_details.submission_count') }} as evidence_submission_count,
        {{ json_nested('balance_transactions') }} as balance_transactions,
        {{ json_nested('evidence') }} as evidence,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
