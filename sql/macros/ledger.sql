{#- Dialect helpers of the ledger marts (balance transactions, payouts, monthly statements). -#}

{#- The type of a text column, for a typed null. -#}
{% macro ledger_text_type() %}{{ return(adapter.dispatch('ledger_text_type', 'stripe_elt')()) }}{% endmacro %}

{% macro duckdb__ledger_text_type() %}varchar{% endmacro %}

{% macro bigquery__ledger_text_type() %}string{% endmacro %}

{% macro default__ledger_text_type() %}varchar{% endmacro %}

{#- The first day of a timestamp's month, in UTC, as a DATE. -#}
{% macro ledger_month_of(timestamp) %}{{ return(adapter.dispatch('ledger_month_of', 'stripe_elt')(timestamp)) }}{% endmacro %}

{#- DuckDB truncates a TIMESTAMPTZ in the session's time zone: read it in UTC first. -#}
{% macro duckdb__ledger_month_of(timestamp) %}cast(date_trunc('month', {{ timestamp }} at time zone 'UTC') as date){% endmacro %}

{% macro bigquery__ledger_month_of(timestamp) %}date_trunc(date({{ timestamp }}), month){% endmacro %}

{% macro default__ledger_month_of(timestamp) %}cast(date_trunc('month', {{ timestamp }}) as date){% endmacro %}

{#- A DATE `months` months (an integer expression) after `month`. -#}
{% macro ledger_add_months(month, months) %}{{ return(adapter.dispatch('ledger_add_months', 'stripe_elt')(month, months)) }}{% endmacro %}

{% macro duckdb__ledger_add_months(month, months) %}cast(date_add({{ month }}, interval ({{ months }}) month) as date){% endmacro %}

{% macro bigquery__ledger_add_months(month, months) %}date_add({{ month }}, interval ({{ months }}) month){% endmacro %}

{% macro default__ledger_add_months(month, months) %}cast({{ month }} + interval '1 month' * ({{ months }}) as date){% endmacro %}

{#- Whole months from `first_month` to `last_month` (both DATEs, first days of months): the
    same in both dialects. -#}
{% macro ledger_months_between(first_month, last_month) -%}
    ((extract(year from {{ last_month }}) - extract(year from {{ first_month }})) * 12
        + extract(month from {{ last_month }}) - extract(month from {{ first_month }}))
{%- endmacro %}
