-- Stripe balance transactions: every movement of funds in an account's Stripe balance, with its
-- fee and net. One row per raw row of stripe_raw.balance_transactions, renamed and cast; nothing
-- is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'balance_transactions') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['type', 'text', 'type'],
            ['reporting_category', 'text', 'reporting_category'],
            ['status', 'text', 'status'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['fee', 'integer', 'fee'],
            ['net', 'integer', 'net'],
            ['exchange_rate', 'float', 'exchange_rate'],
            ['available_on', 'timestamp', 'available_on_at'],
            ['source', 'text', 'source_id'],
            ['description', 'text', 'description'],
            ['balance_type', 'text', 'balance_type'],
            ['fee_details', 'json', 'fee_details']
        ]) }}
    from source

)

select * from final
