{#- The newest synced_at an incremental model holds: what its last build read up to. An empty
    table (its inputs were empty then) holds none, and everything is new to it. A literal stands
    in for "none" rather than an `or ... is null`, which keeps the comparison a filter DuckDB
    pushes into the scan (measured: 14 ms against 667 ms on 1.6 million raw charges). -#}
{% macro last_build_watermark() %}coalesce((select max(synced_at) from {{ this }}), cast('1970-01-01' as timestamp)){% endmacro %}

{#- In an incremental build of a staging model, the raw rows the loads wrote since its last build
    (each raw row's synced_at is when a load last wrote it: a new object, a new version, a
    deletion marked). The last build's newest synced_at is read again (>=): a merge on the grain
    makes that harmless, and no row written in the same instant is missed. -#}
{% macro written_since_last_build() %}
    {%- if is_incremental() %}
    where synced_at >= {{ last_build_watermark() }}
    {%- endif %}
{%- endmacro %}
