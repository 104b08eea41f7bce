-- Stripe transfers: funds sent from the platform's balance to a connected account. One row per raw
-- row of stripe_raw.transfers, renamed and cast; nothing is filtered (deleted objects stay,
-- marked).
with

source as (

    select * from {{ source('stripe', 'transfers') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['amount_reversed', 'integer', 'amount_reversed'],
            ['destination', 'text', 'destination_id'],
            ['destination_payment', 'text', 'destination_payment_id'],
            ['balance_transaction', 'text', 'balance_transaction_id'],
            ['source_transaction', 'text', 'source_transaction_id'],
            ['source_type', 'text', 'source_type'],
            ['transfer_group', 'text', 'transfer_group'],
            ['reversed', 'boolean', 'is_reversed'],
            ['description', 'text', 'description'],
            ['reversals', 'json', 'reversals'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
