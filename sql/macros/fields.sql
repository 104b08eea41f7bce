{#- The object's fields a staging model keeps, as a list of [path, type, name]: `path` below the
    object's root ('status', 'outcome.type'), `type` one of text, integer, float, boolean,
    timestamp (Stripe's epoch seconds, as UTC) or json (a nested object or list, kept as JSON),
    `name` the column's. Renders the select list, in that order.

    DuckDB parses a JSON document at every function that reads it: forty fields read one by one
    parse each object forty times, which costs ten times the time and memory of one parse (a
    staging build of 20,000 charges needed over 1 GB). So DuckDB reads them all with one list
    extraction, written the same in every column (DuckDB computes an expression that a select
    list repeats once), each column taking its element. BigQuery reads each field with its own
    JSON functions (json.sql). -#}
{% macro stripe_fields(fields, column='data') %}{{ return(adapter.dispatch('stripe_fields', 'stripe_elt')(fields, column)) }}{% endmacro %}

{% macro duckdb__stripe_fields(fields, column) -%}
    {%- set values -%}json_extract({{ column }}, [{% for field in fields %}'$.{{ field[0] }}'{% if not loop.last %}, {% endif %}{% endfor %}]){%- endset -%}
    {%- for field in fields %}
        {{ duckdb__field_value(values ~ '[' ~ loop.index ~ ']', field[1]) }} as {{ field[2] }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- One element of the list: a JSON value, read as its column's type. -#}
{% macro duckdb__field_value(value, type) -%}
    {%- if type == 'json' -%}nullif({{ value }}, 'null')
    {%- elif type == 'text' -%}({{ value }} ->> '$')
    {%- elif type == 'integer' -%}cast({{ value }} ->> '$' as bigint)
    {%- elif type == 'float' -%}cast({{ value }} ->> '$' as double)
    {%- elif type == 'boolean' -%}cast({{ value }} ->> '$' as boolean)
    {%- elif type == 'timestamp' -%}{{ epoch_to_timestamp('cast(' ~ value ~ " ->> '$' as bigint)") }}
    {%- else -%}{{ exceptions.raise_compiler_error('stripe_fields: no field type ' ~ type) }}
    {%- endif -%}
{%- endmacro %}

{% macro bigquery__stripe_fields(fields, column) -%}
    {%- for field in fields %}
        {{ field_by_path(field[0], field[1], column) }} as {{ field[2] }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro default__stripe_fields(fields, column) -%}
    {{ bigquery__stripe_fields(fields, column) }}
{%- endmacro %}

{#- One field read on its own, by the json.sql macro of its type. -#}
{% macro field_by_path(path, type, column) -%}
    {%- if type == 'json' -%}{{ json_nested(path, column) }}
    {%- elif type == 'text' -%}{{ json_text(path, column) }}
    {%- elif type == 'integer' -%}{{ json_integer(path, column) }}
    {%- elif type == 'float' -%}{{ json_float(path, column) }}
    {%- elif type == 'boolean' -%}{{ json_boolean(path, column) }}
    {%- elif type == 'timestamp' -%}{{ json_timestamp(path, column) }}
    {%- else -%}{{ exceptions.raise_compiler_error('stripe_fields: no field type ' ~ type) }}
    {%- endif -%}
{%- endmacro %}
