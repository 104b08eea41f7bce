-- Stripe credit notes: reductions of a finalized invoice's amount, refunded or credited. One row
-- per raw row of stripe_raw.credit_notes, renamed and cast; nothing is filtered (deleted objects
-- stay, marked).
with

source as (

    select * from {{ source('stripe', 'credit_notes') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('invoice') }} as invoice_id,
        {{ json_text('customer') }} as customer_id,
        {{ json_text('number') }} as number,
        {{ json_text('status') }} as status,
        {{ json_text('type') }} as type,
        {{ json_text('reason') }} as reason,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount') }} as amount,
        {{ json_integer('amount_shipping') }} as amount_shipping,
        {{ json_integer('subtotal') }} as subtotal,
        {{ json_integer('subtotal_excluding_tax') }} as subtotal_excluding_tax,
        {{ json_integer('total') }} as total,
        {{ json_integer('total_excluding_tax') }} as total_excluding_tax,
        {{ json_integer('discount_amount') }} as discount_amount,
        {{ json_integer('pre_payment_amount') }} as pre_payment_amount,
        {{ json_integer('post_payment_amount') }} as post_payment_amount,
        {{ json_integer('out_of_band_amount') }} as out_of_band_amount,
        {{ json_timestamp('effective_at') }} as effective_at,
        {{ json_timestamp('voided_at') }} as voided_at,
        {{ json_text('memo') }} as memo,
        {{ json_nested('refunds') }} as refunds,
        {{ json_nested('lines') }} as lines,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
