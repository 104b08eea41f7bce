-- Stripe events of the last 30 days (Stripe keeps no more): each change to an object, with the
-- object as it became. One row per raw row of stripe_raw.events, renamed and cast; nothing is
-- filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'events') }}
    {{- written_since_last_build() }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('type') }} as type,
        {{ json_text('api_version') }} as api_version,
        {{ json_text('data.object.id') }} as object_id,
        {{ json_text('data.object.object') }} as object_type,
        {{ json_text('account') }} as connected_account_id,
        {{ json_integer('pending_webhooks') }} as pending_webhooks,
        {{ json_text('request.id') }} as request_id,
        {{ json_text('request.idempotency_key') }} as request_idempotency_key,
        {{ json_nested('data') }} as event_data
    from source

)

select * from final
