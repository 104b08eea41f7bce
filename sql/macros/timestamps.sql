{#- Unix epoch seconds (an integer expression) as a UTC timestamp: TIMESTAMPTZ in DuckDB,
    TIMESTAMP (always UTC) in BigQuery, as the raw tables' `created`. -#}
{% macro epoch_to_timestamp(seconds) %}{{ return(adapter.dispatch('epoch_to_timestamp', 'stripe_elt')(seconds)) }}{% endmacro %}

{% macro duckdb__epoch_to_timestamp(seconds) %}to_timestamp({{ seconds }}){% endmacro %}

{% macro bigquery__epoch_to_timestamp(seconds) %}timestamp_seconds({{ seconds }}){% endmacro %}

{% macro default__epoch_to_timestamp(seconds) %}to_timestamp({{ seconds }}){% endmacro %}
