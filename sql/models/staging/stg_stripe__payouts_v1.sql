-- Stripe payouts: money sent from an account's Stripe balance to its bank account or card. One row
-- per raw row of stripe_raw.payouts, renamed and cast; nothing is filtered (deleted objects stay,
-- marked).
with

source as (

    select * from {{ source('stripe', 'payouts') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['status', 'text', 'status'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['arrival_date', 'timestamp', 'arrival_date_at'],
            ['automatic', 'boolean', 'is_automatic'],
            ['type', 'text', 'type'],
            ['method', 'text', 'method'],
            ['source_type', 'text', 'source_type'],
            ['balance_transaction', 'text', 'balance_transaction_id'],
            ['destination', 'text', 'destination_id'],
            ['failure_balance_transaction', 'text', 'failure_balance_transaction_id'],
            ['failure_code', 'text', 'failure_code'],
            ['failure_message', 'text', 'failure_message'],
            ['reconciliation_status', 'text', 'reconciliation_status'],
            ['original_payout', 'text', 'original_payout_id'],
            ['reversed_by', 'text', 'reversed_by_id'],
            ['description', 'text', 'description'],
            ['statement_descriptor', 'text', 'statement_descriptor'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
