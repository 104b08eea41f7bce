{#- Every currency in the staging models is in the `currencies` seed, so that to_major_units
    knows its exponent: warns with each one missing (add it to seeds/currencies.csv). -#}
{{ config(severity='warn') }}

{% set streams = ['customers', 'prices', 'coupons', 'subscriptions', 'invoices', 'payment_intents', 'charges', 'refunds', 'disputes', 'credit_notes', 'payouts', 'balance_transactions', 'transfers', 'application_fees'] %}

with used as (
{% for stream in streams %}
    select '{{ stream }}' as stream, currency from {{ ref('stg_stripe__' ~ stream) }} where currency is not null
    {% if not loop.last %}union all{% endif %}
{% endfor %}
)

select used.stream, used.currency, count(*) as occurrences
from used
left join {{ ref('currencies') }} as currencies
    on currencies.currency = used.currency
where currencies.currency is null
group by used.stream, used.currency
