{#- Reading a field of a raw row's `data` column (Stripe's object as JSON). `path` is a dotted
    path below the object's root: 'status', 'outcome.type'. JSON null and a missing field are
    both SQL null. -#}

{#- The field as text (a string, or a number's or a boolean's text). -#}
{% macro json_text(path, column='data') %}{{ return(adapter.dispatch('json_text', 'stripe_elt')(path, column)) }}{% endmacro %}

{% macro duckdb__json_text(path, column) %}({{ column }} ->> '$.{{ path }}'){% endmacro %}

{% macro bigquery__json_text(path, column) %}json_value({{ column }}, '$.{{ path }}'){% endmacro %}

{% macro default__json_text(path, column) %}json_value({{ column }}, '$.{{ path }}'){% endmacro %}

{#- The field as a 64-bit integer: Stripe's amounts (minor units), counts, epoch seconds. -#}
{% macro json_integer(path, column='data') %}{{ return(adapter.dispatch('json_integer', 'stripe_elt')(path, column)) }}{% endmacro %}

{% macro duckdb__json_integer(path, column) %}cast({{ duckdb__json_text(path, column) }} as bigint){% endmacro %}

{% macro bigquery__json_integer(path, column) %}cast({{ bigquery__json_text(path, column) }} as int64){% endmacro %}

{% macro default__json_integer(path, column) %}cast({{ default__json_text(path, column) }} as bigint){% endmacro %}

{#- The field as a floating-point number: rates and percentages Stripe sends as decimals
    (exchange_rate, percent_off); never an amount. -#}
{% macro json_float(path, column='data') %}{{ return(adapter.dispatch('json_float', 'stripe_elt')(path, column)) }}{% endmacro %}

{% macro duckdb__json_float(path, column) %}cast({{ duckdb__json_text(path, column) }} as double){% endmacro %}

{% macro bigquery__json_float(path, column) %}cast({{ bigquery__json_text(path, column) }} as float64){% endmacro %}

{% macro default__json_float(path, column) %}cast({{ default__json_text(path, column) }} as double precision){% endmacro %}

{#- The field as a boolean. -#}
{% macro json_boolean(path, column='data') %}{{ return(adapter.dispatch('json_boolean', 'stripe_elt')(path, column)) }}{% endmacro %}

{% macro duckdb__json_boolean(path, column) %}cast({{ duckdb__json_text(path, column) }} as boolean){% endmacro %}

{% macro bigquery__json_boolean(path, column) %}cast({{ bigquery__json_text(path, column) }} as bool){% endmacro %}

{% macro default__json_boolean(path, column) %}cast({{ default__json_text(path, column) }} as boolean){% endmacro %}

{#- A field holding Unix epoch seconds (Stripe's `created`, `canceled_at`, …) as a UTC timestamp. -#}
{% macro json_timestamp(path, column='data') %}{{ return(adapter.dispatch('json_timestamp', 'stripe_elt')(path, column)) }}{% endmacro %}

{% macro duckdb__json_timestamp(path, column) %}{{ epoch_to_timestamp(duckdb__json_integer(path, column)) }}{% endmacro %}

{% macro bigquery__json_timestamp(path, column) %}{{ epoch_to_timestamp(bigquery__json_integer(path, column)) }}{% endmacro %}

{% macro default__json_timestamp(path, column) %}{{ epoch_to_timestamp(default__json_integer(path, column)) }}{% endmacro %}

{#- A nested object or list (metadata, fee_details, lines) kept as JSON. -#}
{% macro json_nested(path, column='data') %}{{ return(adapter.dispatch('json_nested', 'stripe_elt')(path, column)) }}{% endmacro %}

{% macro duckdb__json_nested(path, column) %}nullif({{ column }} -> '$.{{ path }}', 'null'){% endmacro %}

{#- JSON values cannot be compared in BigQuery: JSON_TYPE tells a JSON null. -#}
{% macro bigquery__json_nested(path, column) %}if(json_type(json_query({{ column }}, '$.{{ path }}')) = 'null', null, json_query({{ column }}, '$.{{ path }}')){% endmacro %}

{% macro default__json_nested(path, column) %}json_query({{ column }}, '$.{{ path }}'){% endmacro %}
