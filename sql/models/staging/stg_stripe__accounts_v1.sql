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
        {{ stripe_fields([
            ['type', 'text', 'type'],
            ['business_type', 'text', 'business_type'],
            ['business_profile.name', 'text', 'business_name'],
            ['country', 'text', 'country'],
            ['default_currency', 'text', 'default_currency'],
            ['email', 'text', 'email'],
            ['charges_enabled', 'boolean', 'charges_enabled'],
            ['payouts_enabled', 'boolean', 'payouts_enabled'],
            ['details_submitted', 'boolean', 'details_submitted'],
            ['controller.type', 'text', 'controller_type'],
            ['settings.payouts.schedule.interval', 'text', 'payout_interval'],
            ['settings.payouts.schedule.delay_days', 'integer', 'payout_delay_days'],
            ['capabilities', 'json', 'capabilities'],
            ['requirements', 'json', 'requirements'],
            ['metadata', 'json', 'metadata']
        ]) }}
    from source

)

select * from final
