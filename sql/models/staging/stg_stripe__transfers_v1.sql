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
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_integer('amount_reversed') }} as amount_reversed,
        {{ json_text('destination') }} as destination_id,
        {{ json_text('destination_payment') }} as destination_payment_id,
        {{ json_text('balance_transaction') }} as balance_transaction_id,
        {{ json_text('source_transaction') }} as source_transaction_id,
        {{ json_text('source_type') }} as source_type,
        {{ json_text('transfer_group') }} as transfer_group,
        {{ json_boolean('reversed') }} as is_reversed,
        {{ json_text('description') }} as description,
        {{ json_nested('reversals') }} as reversals,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
