{#- The columns every staging model starts with, from its raw table's own columns: the account,
    whether the row is the platform's own data, Stripe's id and mode, and the row's bookkeeping.
    The platform is the account the loader recorded with the warehouse's first data
    (stripe_elt.settings, key `platform`): one platform per warehouse. A value of the row alone
    and of that one setting, so an incremental build computes it as a full one does. -#}
{% macro stripe_object_columns() %}
        account_id,
        account_id = (select value from {{ source('stripe_elt', 'settings') }} where key = 'platform') as is_platform,
        id,
        livemode,
        created as created_at,
        is_deleted,
        observed_at,
        synced_at
{%- endmacro %}
