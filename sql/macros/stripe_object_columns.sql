{#- The columns every staging model starts with, from its raw table's own columns: the account,
    whether the row is the platform's own data, Stripe's id and mode, and the row's bookkeeping.
    `connected_accounts` is the raw `accounts` relation (`source('stripe', 'accounts')`): the
    connected accounts the platform has had, disconnected ones included, all under the
    platform's account_id. A row whose account is none of them is the platform's. -#}
{% macro stripe_object_columns(connected_accounts) %}
        account_id,
        account_id not in (select id from {{ connected_accounts }}) as is_platform,
        id,
        livemode,
        created as created_at,
        is_deleted,
        observed_at,
        synced_at
{%- endmacro %}
