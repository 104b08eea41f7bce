-- The platform's connected accounts (rows of the platform: `account_id` is the platform, `id` the
-- connected account), disconnected ones marked deleted. One row per raw row of
-- stripe_raw.accounts, renamed and cast; nothing is filtered (deleted objects stay, marked).
with

source as (

    select * from {{ source('stripe', 'accounts') }}

),

final as (

    select
        {{ stripe_object_columns() }},
        {{ json_text('type') }} as type,
        {{ json_text('business_type') }} as business_type,
        {{ json_text('business_profile.name') }} as business_name,
        {{ json_text('country') }} as country,
        {{ json_text('default_currency') }} as default_currency,
        {{ json_text('email') }} as email,
        {{ json_boolean('charges_enabled') }} as charges_enabled,
        {{ json_boolean('payouts_enabled') }} as payouts_enabled,
        {{ json_boolean('details_submitted') }} as details_submitted,
        {{ json_text('controller.type') }} as controller_type,
        {{ json_text('settings.payouts.schedule.interval') }} as payout_interval,
        {{ json_integer('settings.payouts.schedule.delay_days') }} as payout_delay_days,
        {{ json_nested('capabilities') }} as capabilities,
        {{ json_nested('requirements') }} as requirements,
        {{ json_nested('metadata') }} as metadata
    from source

)

select * from final
