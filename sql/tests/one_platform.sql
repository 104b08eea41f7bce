{#- The rows marked is_platform are all of one account, the platform the warehouse records
    (stripe_elt.settings): fails with every account that claims to be the platform. -#}
{% set streams = ['customers', 'products', 'prices', 'coupons', 'subscriptions', 'invoices', 'payment_intents', 'charges', 'refunds', 'disputes', 'credit_notes', 'payouts', 'balance_transactions', 'transfers', 'application_fees', 'accounts', 'events'] %}

with platform_rows as (
{% for stream in streams %}
    select '{{ stream }}' as stream, account_id from {{ ref('stg_stripe__' ~ stream) }} where is_platform
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

platforms as (
    select account_id, count(*) as platform_rows
    from platform_rows
    group by account_id
)

select account_id, platform_rows
from platforms
where (select count(*) from platforms) > 1
