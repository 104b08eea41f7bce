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
        {{ json_text('customer') }} as customer_id,
        {{ json_text('parent.subscription_details.subscription') }} as subscription_id,
        {{ json_text('number') }} as number,
        {{ json_text('status') }} as status,
        {{ json_text('billing_reason') }} as billing_reason,
        {{ json_text('collection_method') }} as collection_method,
        {{ json_text('currency') }} as currency,
        {{ json_integer('amount_due') }} as amount_due,
        {{ json_integer('amount_paid') }} as amount_paid,
        {{ json_integer('amount_remaining') }} as amount_remaining,
        {{ json_integer('amount_overpaid') }} as amount_overpaid,
        {{ json_integer('amount_shipping') }} as amount_shipping,
        {{ json_integer('subtotal') }} as subtotal,
        {{ json_integer('subtotal_excluding_tax') }} as subtotal_excluding_tax,
        {{ json_integer('total') }} as total,
        {{ json_integer('total_excluding_tax') }} as total_excluding_tax,
        {{ json_integer('starting_balance') }} as starting_balance,
        {{ json_integer('ending_balance') }} as ending_balance,
        {{ json_integer('pre_payment_credit_notes_amount') }} as pre_payment_credit_notes_amount,
        {{ json_integer('post_payment_credit_notes_amount') }} as post_payment_credit_notes_amount,
        {{ json_integer('attempt_count') }} as attempt_count,
        {{ json_boolean('attempted') }} as is_attempted,
        {{ json_boolean('auto_advance') }} as auto_advance,
        {{ json_timestamp('period_start') }} as period_start_at,
        {{ json_timestamp('period_end') }} as period_end_at,
        {{ json_timestamp('due_date') }} as due_date_at,
        {{ json_timestamp('effective_at') }} as effective_at,
        {{ json_timestamp('status_transitions.finalized_at') }} as finalized_at,
        {{ json_timestamp('status_transitions.paid_at') }} as paid_at,
        {{ json_timestamp('status_transitions.marked_uncollectible_at') }} as marked_uncollectible_at,
        {{ json_timestamp('status_transitions.voided_at') }} as voided_at,
        {{ json_text('customer_email') }} as customer_email,
        {{ json_text('customer_name') }} as customer_name,
        {{ json_text('description') }} as description,
        {{ json_text('hosted_invoice_url') }} as hosted_invoice_url,
        {{ json_text('on_behalf_of') }} as on_behalf_of_id,
        {{ json_nested('lines') }} as lines,
        {{ json_nested('discounts') }} as discounts,
        {{ json_nested('total_discount_amounts') }} as total_discount_amounts,
        {{ json_nested('total_taxes') }} as total_taxes,
        {{ json_nested('parent') }} as parent,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
