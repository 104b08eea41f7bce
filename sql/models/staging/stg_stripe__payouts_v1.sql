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
        {{ json_text('status') }} as status,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_timestamp('arrival_date') }} as arrival_date_at,
        {{ json_boolean('automatic') }} as is_automatic,
        {{ json_text('type') }} as type,
        {{ json_text('method') }} as method,
        {{ json_text('source_type') }} as source_type,
        {{ json_text('balance_transaction') }} as balance_transaction_id,
        {{ json_text('destination') }} as destination_id,
        {{ json_text('failure_balance_transaction') }} as failure_balance_transaction_id,
        {{ json_text('failure_code') }} as failure_code,
        {{ json_text('failure_message') }} as failure_message,
        {{ json_text('reconciliation_status') }} as reconciliation_status,
        {{ json_text('original_payout') }} as original_payout_id,
        {{ json_text('reversed_by') }} as reversed_by_id,
        {{ json_text('description') }} as description,
        {{ json_text('statement_descriptor') }} as statement_descriptor,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
