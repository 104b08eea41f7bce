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
        {{ json_text('type') }} as type,
        {{ json_text('reporting_category') }} as reporting_category,
        {{ json_text('status') }} as status,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_integer('fee') }} as fee,
        {{ json_integer('net') }} as net,
        {{ json_float('exchange_rate') }} as exchange_rate,
        {{ json_timestamp('available_on') }} as available_on_at,
        {{ json_text('source') }} as source_id,
        {{ json_text('description') }} as description,
        {{ json_text('balance_type') }} as balance_type,
        {{ json_nested('fee_details') }} as fee_details
    from source

)

select * from final
