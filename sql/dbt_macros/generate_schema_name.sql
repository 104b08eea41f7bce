{#- dbt's hook for a node's schema. The project's layers set theirs (`+schema` in
    dbt_project.yml: stripe_staging, stripe_intermediate, stripe_marts): that name is used as it
    is, not appended to the target's schema as dbt does by default, so that the relations are
    the ones the README names whatever the profile. `schema_prefix` (a var, default '') stands
    for the loader's --dataset-prefix. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ var('schema_prefix', '') ~ (custom_schema_name | trim) }}
    {%- endif -%}
{%- endmacro %}
