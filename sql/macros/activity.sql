{#- Dialect helpers of the activity marts (int_activity__*, account_activity_daily,
    account_transactions_monthly, pricing_transactions_monthly): days and months in UTC, and
    series of them to fill the gaps of a chart. -#}

{#- A timestamp's day in UTC, as a DATE: DuckDB's cast of a TIMESTAMPTZ would take the session's
    time zone, BigQuery's DATE() is UTC by default. -#}
{% macro utc_date(timestamp) %}{{ return(adapter.dispatch('utc_date', 'stripe_elt')(timestamp)) }}{% endmacro %}

{% macro duckdb__utc_date(timestamp) %}cast(timezone('UTC', {{ timestamp }}) as date){% endmacro %}

{% macro bigquery__utc_date(timestamp) %}date({{ timestamp }}){% endmacro %}

{% macro default__utc_date(timestamp) %}cast({{ timestamp }} as date){% endmacro %}

{#- The first day of a DATE's month, as a DATE (DuckDB's date_trunc gives a TIMESTAMP). -#}
{% macro month_start(date) %}{{ return(adapter.dispatch('month_start', 'stripe_elt')(date)) }}{% endmacro %}

{% macro duckdb__month_start(date) %}cast(date_trunc('month', {{ date }}) as date){% endmacro %}

{% macro bigquery__month_start(date) %}date_trunc({{ date }}, month){% endmacro %}

{% macro default__month_start(date) %}cast(date_trunc('month', {{ date }}) as date){% endmacro %}

{#- For a FROM clause, after `cross join`: every date from `first` to `last` (DATE expressions of
    the row it joins, both included) by steps of one `unit` (day or month), as the column `name`
    of the relation `name`. `first` must be a month's first day when `unit` is month. -#}
{% macro date_series(first, last, unit, name) %}{{ return(adapter.dispatch('date_series', 'stripe_elt')(first, last, unit, name)) }}{% endmacro %}

{% macro duckdb__date_series(first, last, unit, name) %}unnest(cast(generate_series({{ first }}, {{ last }}, interval 1 {{ unit }}) as date[])) as {{ name }}({{ name }}){% endmacro %}

{% macro bigquery__date_series(first, last, unit, name) %}unnest(generate_date_array({{ first }}, {{ last }}, interval 1 {{ unit }})) as {{ name }}{% endmacro %}

{% macro default__date_series(first, last, unit, name) %}unnest(cast(generate_series({{ first }}, {{ last }}, interval 1 {{ unit }}) as date[])) as {{ name }}({{ name }}){% endmacro %}

{#- The reporting category Stripe gives a balance transaction of type `type` (a text expression),
    for older objects that lack one (Stripe's docs, reports/reporting-categories): a type
    not listed is its own category (adjustment, topup, …). Standard SQL, for both engines. -#}
{% macro reporting_category_of(type) -%}
case
            when {{ type }} in ('charge', 'payment') then 'charge'
            when {{ type }} in ('refund', 'payment_refund') then 'refund'
            when {{ type }} in ('payout_cancel', 'payout_failure') then 'payout_reversal'
            when {{ type }} in ('transfer_cancel', 'transfer_failure', 'transfer_refund') then 'transfer_reversal'
            when {{ type }} = 'application_fee' then 'platform_earning'
            when {{ type }} = 'application_fee_refund' then 'platform_earning_refund'
            when {{ type }} in ('stripe_fee', 'stripe_fx_fee', 'tax_fee') then 'fee'
            else {{ type }}
        end
{%- endmacro %}
