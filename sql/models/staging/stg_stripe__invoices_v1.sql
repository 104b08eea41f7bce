-- Stripe invoices: what a customer owes, for a subscription period or one-off items. One row per
-- raw row of stripe_raw.invoices, renamed and cast; nothing is filtered (deleted objects stay,
-- marked).
with

source as (

    select * from {{ source('stripe', 'invoices') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['customer', 'text', 'customer_id'],
            ['parent.subscription_details.subscription', 'text', 'subscription_id'],
            ['number', 'text', 'number'],
            ['status', 'text', 'status'],
            ['billing_reason', 'text', 'billing_reason'],
            ['collection_method', 'text', 'collection_method'],
            ['currency', 'text', 'currency'],
            ['amount_due', 'integer', 'amount_due'],
            ['amount_paid', 'integer', 'amount_paid'],
            ['amount_remaining', 'integer', 'amount_remaining'],
            ['amount_overpaid', 'integer', 'amount_overpaid'],
            ['amount_shipping', 'integer', 'amount_shipping'],
            ['subtotal', 'integer', 'subtotal'],
            ['subtotal_excluding_tax', 'integer', 'subtotal_excluding_tax'],
            ['total', 'integer', 'total'],
            ['total_excluding_tax', 'integer', 'total_excluding_tax'],
            ['starting_balance', 'integer', 'starting_balance'],
            ['ending_balance', 'integer', 'ending_balance'],
            ['pre_payment_credit_notes_amount', 'integer', 'pre_payment_credit_notes_amount'],
            ['post_payment_credit_notes_amount', 'integer', 'post_payment_credit_notes_amount'],
            ['attempt_count', 'integer', 'attempt_count'],
            ['attempted', 'boolean', 'is_attempted'],
            ['auto_advance', 'boolean', 'auto_advance'],
            ['period_start', 'timestamp', 'period_start_at'],
            ['period_end', 'timestamp', 'period_end_at'],
            ['due_date', 'timestamp', 'due_date_at'],
            ['effective_at', 'timestamp', 'effective_at'],
            ['status_transitions.finalized_at', 'timestamp', 'finalized_at'],
            ['status_transitions.paid_at', 'timestamp', 'paid_at'],
            ['status_transitions.marked_uncollectible_at', 'timestamp', 'marked_uncollectible_at'],
            ['status_transitions.voided_at', 'timestamp', 'voided_at'],
            ['customer_email', 'text', 'customer_email'],
            ['customer_name', 'text', 'customer_name'],
            ['description', 'text', 'description'],
            ['hosted_invoice_url', 'text', 'hosted_invoice_url'],
            ['on_behalf_of', 'text', 'on_behalf_of_id'],
            ['lines', 'json', 'lines'],
            ['discounts', 'json', 'discounts'],
            ['total_discount_amounts', 'json', 'total_discount_amounts'],
            ['total_taxes', 'json', 'total_taxes'],
            ['parent', 'json', 'parent'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
