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
        {{ json_text('account') }} as connected_account_id,
        {{ json_text('application') }} as application_id,
        {{ json_text('charge') }} as charge_id,
        {{ json_text('balance_transaction') }} as balance_transaction_id,
        {{ json_text('originating_transaction') }} as originating_transaction_id,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_integer('amount_refunded') }} as amount_refunded,
        {{ json_boolean('refunded') }} as is_refunded,
        {{ json_nested('fee_source') }} as fee_source,
        {{ json_nested('refunds') }} as refunds
    from source

)

select * from final
