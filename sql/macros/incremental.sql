{#- In an incremental build of a staging model, the raw rows the loads wrote since its last build
    (each raw row's synced_at is when a load last wrote it: a new object, a new version, a
    deletion marked). The last build's newest synced_at is read again (>=): a merge on the grain
    makes that harmless, and no row written in the same instant is missed. -#}
{% macro written_since_last_build() %}
    {%- if is_incremental() %}
    where synced_at >= (select max(synced_at) from {{ this }})
    {%- endif %}
{%- endmacro %}
