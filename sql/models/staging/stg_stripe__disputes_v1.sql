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
        {{ stripe_fields([
            ['charge', 'text', 'charge_id'],
            ['payment_intent', 'text', 'payment_intent_id'],
            ['status', 'text', 'status'],
            ['reason', 'text', 'reason'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['is_charge_refundable', 'boolean', 'is_charge_refundable'],
            ['evidence_details.due_by', 'timestamp', 'evidence_due_by_at'],
            ['evidence_details.submission_count', 'integer', 'evidence_submission_count'],
            ['balance_transactions', 'json', 'balance_transactions'],
            ['evidence', 'json', 'evidence'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
