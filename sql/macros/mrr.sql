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

{#- A UTC timestamp as Unix epoch seconds (Stripe's own integer times). -#}
{% macro mrr_epoch(timestamp) %}{{ return(adapter.dispatch('mrr_epoch', 'stripe_elt')(timestamp)) }}{% endmacro %}

{% macro duckdb__mrr_epoch(timestamp) %}cast(epoch({{ timestamp }}) as bigint){% endmacro %}

{% macro bigquery__mrr_epoch(timestamp) %}unix_seconds({{ timestamp }}){% endmacro %}

{% macro default__mrr_epoch(timestamp) %}cast(extract(epoch from {{ timestamp }}) as bigint){% endmacro %}

{#- The last second of a month (a date, its first day), as Unix epoch seconds. -#}
{% macro mrr_month_last_second(month) %}{{ return(adapter.dispatch('mrr_month_last_second', 'stripe_elt')(month)) }}{% endmacro %}

{% macro duckdb__mrr_month_last_second(month) %}(cast(epoch(cast({{ month }} as date) + interval 1 month) as bigint) - 1){% endmacro %}

{% macro bigquery__mrr_month_last_second(month) %}(unix_seconds(timestamp(date_add({{ month }}, interval 1 month))) - 1){% endmacro %}

{% macro default__mrr_month_last_second(month) %}(cast(extract(epoch from cast({{ month }} as date) + interval '1 month') as bigint) - 1){% endmacro %}

{#- `cross join` of every month from `first_month` to `last_month` (dates, first days), as a
    date named `alias`. -#}
{% macro mrr_months_between(first_month, last_month, alias) %}{{ return(adapter.dispatch('mrr_months_between', 'stripe_elt')(first_month, last_month, alias)) }}{% endmacro %}

{% macro duckdb__mrr_months_between(first_month, last_month, alias) %}cross join unnest(cast(generate_series({{ first_month }}, {{ last_month }}, interval 1 month) as date[])) as {{ alias }}_list({{ alias }}){% endmacro %}

{% macro bigquery__mrr_months_between(first_month, last_month, alias) %}cross join unnest(generate_date_array({{ first_month }}, {{ last_month }}, interval 1 month)) as {{ alias }}{% endmacro %}

{% macro default__mrr_months_between(first_month, last_month, alias) %}cross join unnest(generate_date_array({{ first_month }}, {{ last_month }}, interval 1 month)) as {{ alias }}{% endmacro %}

{#- The select of the MRR of each row of `periods` (a CTE with account_id,
    subscription_item_id, period_amount, recurring_interval, recurring_interval_count and the
    `keys`) after the forever coupons of `discounts` (int_mrr__subscription_item_forever_discounts)
    that had started by the row's `started_by` second ('' for: whenever): the largest reduction
    counts (a coupon never raises an amount). -#}
{% macro mrr_after_forever_coupons(periods, keys, discounts, started_by='') -%}
    select
        {%- for key in keys %}
        {{ periods }}.{{ key }},
        {%- endfor %}
        min({{ mrr_monthly_amount(periods ~ '.period_amount', 'coalesce(discounts.kept, 1)', 'coalesce(discounts.whole, 1)', periods ~ '.recurring_interval', periods ~ '.recurring_interval_count') }}) as mrr
    from {{ periods }}
    left join {{ discounts }} as discounts
        on discounts.account_id = {{ periods }}.account_id
        and discounts.subscription_item_id = {{ periods }}.subscription_item_id
        {%- if started_by | length > 0 %}
        and coalesce({{ mrr_epoch('discounts.discount_start_at') }}, 0) <= {{ periods }}.{{ started_by }}
        {%- endif %}
    group by {% for key in keys %}{{ periods }}.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endmacro %}
