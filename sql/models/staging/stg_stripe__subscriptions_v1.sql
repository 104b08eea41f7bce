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
        {{ json_text('customer') }} as customer_id,
        {{ json_text('status') }} as status,
        {{ json_text('currency') }} as currency,
        {{ json_text('collection_method') }} as collection_method,
        {{ json_text('description') }} as description,
        {{ json_timestamp('start_date') }} as start_date_at,
        {{ json_timestamp('billing_cycle_anchor') }} as billing_cycle_anchor_at,
        {{ json_timestamp('trial_start') }} as trial_start_at,
        {{ json_timestamp('trial_end') }} as trial_end_at,
        {{ json_boolean('cancel_at_period_end') }} as cancel_at_period_end,
        {{ json_timestamp('cancel_at') }} as cancel_at,
        {{ json_timestamp('canceled_at') }} as canceled_at,
        {{ json_timestamp('ended_at') }} as ended_at,
        {{ json_text('cancellation_details.reason') }} as cancellation_reason,
        {{ json_text('cancellation_details.feedback') }} as cancellation_feedback,
        {{ json_text('latest_invoice') }} as latest_invoice_id,
        {{ json_text('default_payment_method') }} as default_payment_method_id,
        {{ json_integer('days_until_due') }} as days_until_due,
        {{ json_float('application_fee_percent') }} as application_fee_percent,
        {{ json_text('on_behalf_of') }} as on_behalf_of_id,
        {{ json_text('schedule') }} as schedule_id,
        {{ json_nested('items') }} as items,
        {{ json_nested('discounts') }} as discounts,
        {{ json_nested('pause_collection') }} as pause_collection,
        {{ json_nested('transfer_data') }} as transfer_data,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
