{#- Helpers of the MRR models (int_mrr__*, subscription_mrr_monthly, mrr_monthly). -#}

{#- `cross join` of every element of a JSON list (`path` below `column`'s root, e.g. 'data' of a
    subscription's `items`; '' for a list that is the column itself) as a JSON value named `alias`. DuckDB names an unnested column by
    the table alias's column list; BigQuery by the alias itself. -#}
{% macro mrr_unnest_json_list(column, path, alias) %}{{ return(adapter.dispatch('mrr_unnest_json_list', 'stripe_elt')(column, path, alias)) }}{% endmacro %}

{% macro duckdb__mrr_unnest_json_list(column, path, alias) %}cross join unnest(cast(json_extract({{ column }}, '{{ mrr_json_path(path) }}') as json[])) as {{ alias }}_list({{ alias }}){% endmacro %}

{% macro bigquery__mrr_unnest_json_list(column, path, alias) %}cross join unnest(json_query_array({{ column }}, '{{ mrr_json_path(path) }}')) as {{ alias }}{% endmacro %}

{% macro default__mrr_unnest_json_list(column, path, alias) %}cross join unnest(json_query_array({{ column }}, '{{ mrr_json_path(path) }}')) as {{ alias }}{% endmacro %}

{#- A JSON path of a dotted path below the root; '' is the root itself. -#}
{% macro mrr_json_path(path) %}{% if path | length > 0 %}$.{{ path }}{% else %}${% endif %}{% endmacro %}

{#- numerator / denominator, both non-negative integers, rounded to the nearest integer with
    halves up: the one rounding of an item's MRR, exact in integer arithmetic on both engines. -#}
{% macro mrr_rounded_division(numerator, denominator) %}{{ return(adapter.dispatch('mrr_rounded_division', 'stripe_elt')(numerator, denominator)) }}{% endmacro %}

{% macro duckdb__mrr_rounded_division(numerator, denominator) %}((2 * ({{ numerator }}) + ({{ denominator }})) // (2 * ({{ denominator }}))){% endmacro %}

{% macro bigquery__mrr_rounded_division(numerator, denominator) %}div(2 * ({{ numerator }}) + ({{ denominator }}), 2 * ({{ denominator }})){% endmacro %}

{% macro default__mrr_rounded_division(numerator, denominator) %}((2 * ({{ numerator }}) + ({{ denominator }})) / (2 * ({{ denominator }}))){% endmacro %}

{#- A billing period's amount as a fraction of a month: the numerator and the denominator that
    multiply an amount billed every `interval_count` `interval`s into a monthly one (Stripe's
    normalization: a year is 12 months, a week 52/12 of a month, a day 365/12). -#}
{% macro mrr_month_numerator(interval) -%}
    case {{ interval }} when 'week' then 52 when 'day' then 365 else 1 end
{%- endmacro %}

{% macro mrr_month_denominator(interval, interval_count) -%}
    (case {{ interval }} when 'month' then 1 else 12 end * {{ interval_count }})
{%- endmacro %}

{#- The first day of a timestamp's UTC month, as a date. -#}
{% macro mrr_month_of(timestamp) %}{{ return(adapter.dispatch('mrr_month_of', 'stripe_elt')(timestamp)) }}{% endmacro %}

{% macro duckdb__mrr_month_of(timestamp) %}cast(date_trunc('month', timezone('UTC', {{ timestamp }})) as date){% endmacro %}

{% macro bigquery__mrr_month_of(timestamp) %}date_trunc(date({{ timestamp }}), month){% endmacro %}

{% macro default__mrr_month_of(timestamp) %}cast(date_trunc('month', {{ timestamp }}) as date){% endmacro %}

{#- What an item bills each period before discounts and tax, in minor units: unit_amount ×
    quantity for a licensed price; metered prices bill usage, not a recurring amount, and count
    0, as free prices and prices without a unit amount (tiered) do. -#}
{% macro mrr_period_amount(usage_type, unit_amount, quantity) -%}
    case when {{ usage_type }} = 'licensed' and {{ unit_amount }} > 0 then {{ unit_amount }} * coalesce({{ quantity }}, 1) else 0 end
{%- endmacro %}

{#- An item's MRR: its period amount, times the share kept / whole that a forever coupon leaves,
    normalized to a month, rounded once to an integer in minor units. -#}
{% macro mrr_monthly_amount(period_amount, kept, whole, interval, interval_count) -%}
    {{ mrr_rounded_division(
        period_amount ~ ' * ' ~ kept ~ ' * ' ~ mrr_month_numerator(interval),
        whole ~ ' * ' ~ mrr_month_denominator(interval, 'coalesce(' ~ interval_count ~ ', 1)')
    ) }}
{%- endmacro %}
