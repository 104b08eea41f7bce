-- Stripe application fees: the platform's earnings from its connected accounts' charges (rows of
-- the platform). One row per raw row of stripe_raw.application_fees, renamed and cast; nothing is
-- filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'application_fees') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['account', 'text', 'connected_account_id'],
            ['application', 'text', 'application_id'],
            ['charge', 'text', 'charge_id'],
            ['balance_transaction', 'text', 'balance_transaction_id'],
            ['originating_transaction', 'text', 'originating_transaction_id'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['amount_refunded', 'integer', 'amount_refunded'],
            ['refunded', 'boolean', 'is_refunded'],
            ['fee_source', 'json', 'fee_source'],
            ['refunds', 'json', 'refunds']
        ]) }}
    from source

)

select * from final
