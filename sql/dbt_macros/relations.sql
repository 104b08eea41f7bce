{#- On DuckDB, `ref()` and `source()` render relations without their catalog
    ("stripe_raw"."charges", not "stripe"."stripe_raw"."charges"). A view keeps the text of its
    query, and DuckDB names a database file's catalog after the name it was opened under: a view
    naming the catalog breaks in any client that opens the file under another name (stripe-elt
    attaches it as `warehouse`; a copy has another file name). Unqualified names resolve in the
    view's own catalog. On BigQuery the project stays in the name, as dbt writes it.
    These use dbt's `builtins`: our runner (transforms/) renders names by itself and does not
    read this folder. -#}
{% macro ref() %}
    {%- set version = kwargs.get('version') or kwargs.get('v') -%}
    {%- if (varargs | length) == 1 -%}
        {%- set relation = builtins.ref(varargs[0], version=version) -%}
    {%- else -%}
        {%- set relation = builtins.ref(varargs[0], varargs[1], version=version) -%}
    {%- endif -%}
    {{ return(without_duckdb_catalog(relation)) }}
{%- endmacro %}

{% macro source(source_name, table_name) -%}
    {{ return(without_duckdb_catalog(builtins.source(source_name, table_name))) }}
{%- endmacro %}

{% macro without_duckdb_catalog(relation) -%}
    {%- if target.type == 'duckdb' and relation is not none -%}
        {{ return(relation.include(database=false)) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
