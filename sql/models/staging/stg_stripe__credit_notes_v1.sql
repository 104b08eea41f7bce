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
        {{ stripe_fields([
            ['invoice', 'text', 'invoice_id'],
            ['customer', 'text', 'customer_id'],
            ['number', 'text', 'number'],
            ['status', 'text', 'status'],
            ['type', 'text', 'type'],
            ['reason', 'text', 'reason'],
            ['currency', 'text', 'currency'],
            ['amount', 'integer', 'amount'],
            ['amount_shipping', 'integer', 'amount_shipping'],
            ['subtotal', 'integer', 'subtotal'],
            ['subtotal_excluding_tax', 'integer', 'subtotal_excluding_tax'],
            ['total', 'integer', 'total'],
            ['total_excluding_tax', 'integer', 'total_excluding_tax'],
            ['discount_amount', 'integer', 'discount_amount'],
            ['pre_payment_amount', 'integer', 'pre_payment_amount'],
            ['post_payment_amount', 'integer', 'post_payment_amount'],
            ['out_of_band_amount', 'integer', 'out_of_band_amount'],
            ['effective_at', 'timestamp', 'effective_at'],
            ['voided_at', 'timestamp', 'voided_at'],
            ['memo', 'text', 'memo'],
            ['refunds', 'json', 'refunds'],
            ['lines', 'json', 'lines'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
