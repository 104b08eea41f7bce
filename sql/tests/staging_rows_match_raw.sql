{#- Every raw row is in its staging model exactly once, and the staging models hold nothing
    else: fails with each (stream, account_id, id) whose counts differ. -#}
{% set streams = ['customers', 'products', 'prices', 'coupons', 'subscriptions', 'invoices', 'payment_intents', 'charges', 'refunds', 'disputes', 'credit_notes', 'payouts', 'balance_transactions', 'transfers', 'application_fees', 'accounts', 'events'] %}

{% for stream in streams %}
select
    '{{ stream }}' as stream,
    coalesce(raw_rows.account_id, staged_rows.account_id) as account_id,
    coalesce(raw_rows.id, staged_rows.id) as id,
    coalesce(raw_rows.occurrences, 0) as in_raw,
    coalesce(staged_rows.occurrences, 0) as in_staging
from (
    select account_id, id, count(*) as occurrences
    from {{ source('stripe', stream) }}
    group by account_id, id
) as raw_rows
full outer join (
    select account_id, id, count(*) as occurrences
    from {{ ref('stg_stripe__' ~ stream) }}
    group by account_id, id
) as staged_rows
    on raw_rows.account_id = staged_rows.account_id
    and raw_rows.id = staged_rows.id
where coalesce(raw_rows.occurrences, 0) != 1 or coalesce(staged_rows.occurrences, 0) != 1
{% if not loop.last %}union all{% endif %}
{% endfor %}
