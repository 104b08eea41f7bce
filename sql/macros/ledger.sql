{#- Dialect helpers of the ledger marts (balance transactions, payouts, monthly statements); their
    days and months are the activity marts' (activity.sql). -#}

{#- The type of a text column, for a typed null. -#}
{% macro ledger_text_type() %}{{ return(adapter.dispatch('ledger_text_type', 'stripe_elt')()) }}{% endmacro %}

{% macro duckdb__ledger_text_type() %}varchar{% endmacro %}

{% macro bigquery__ledger_text_type() %}string{% endmacro %}

{% macro default__ledger_text_type() %}varchar{% endmacro %}
