-- Stripe subscriptions, of every status (canceled included): a customer's recurring purchase of
-- prices. One row per raw row of stripe_raw.subscriptions, renamed and cast; nothing is filtered
-- (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'subscriptions') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ stripe_fields([
            ['customer', 'text', 'customer_id'],
            ['status', 'text', 'status'],
            ['currency', 'text', 'currency'],
            ['collection_method', 'text', 'collection_method'],
            ['description', 'text', 'description'],
            ['start_date', 'timestamp', 'start_date_at'],
            ['billing_cycle_anchor', 'timestamp', 'billing_cycle_anchor_at'],
            ['trial_start', 'timestamp', 'trial_start_at'],
            ['trial_end', 'timestamp', 'trial_end_at'],
            ['cancel_at_period_end', 'boolean', 'cancel_at_period_end'],
            ['cancel_at', 'timestamp', 'cancel_at'],
            ['canceled_at', 'timestamp', 'canceled_at'],
            ['ended_at', 'timestamp', 'ended_at'],
            ['cancellation_details.reason', 'text', 'cancellation_reason'],
            ['cancellation_details.feedback', 'text', 'cancellation_feedback'],
            ['latest_invoice', 'text', 'latest_invoice_id'],
            ['default_payment_method', 'text', 'default_payment_method_id'],
            ['days_until_due', 'integer', 'days_until_due'],
            ['application_fee_percent', 'float', 'application_fee_percent'],
            ['on_behalf_of', 'text', 'on_behalf_of_id'],
            ['schedule', 'text', 'schedule_id'],
            ['items', 'json', 'items'],
            ['discounts', 'json', 'discounts'],
            ['pause_collection', 'json', 'pause_collection'],
            ['transfer_data', 'json', 'transfer_data'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
