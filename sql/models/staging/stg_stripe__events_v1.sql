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
        {{ stripe_fields([
            ['type', 'text', 'type'],
            ['api_version', 'text', 'api_version'],
            ['data.object.id', 'text', 'object_id'],
            ['data.object.object', 'text', 'object_type'],
            ['account', 'text', 'connected_account_id'],
            ['pending_webhooks', 'integer', 'pending_webhooks'],
            ['request.id', 'text', 'request_id'],
            ['request.idempotency_key', 'text', 'request_idempotency_key'],
            ['data', 'json', 'event_data']
        ]) }}
    from source

)

select * from final
