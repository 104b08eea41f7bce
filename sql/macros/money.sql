{#- An amount in a currency's minor units (as Stripe sends it: cents, yen, fils) in major units,
    exactly, as a decimal with three places. `exponent` is the currency's exponent from the
    `currencies` seed (0 for JPY, 2 for USD and for ISK as Stripe sends it, 3 for KWD): join the
    seed on `currency` and pass its column, e.g.
        {{ to_major_units('charges.amount', 'currencies.exponent') }}
    Never divide by a flat 100. -#}
{% macro to_major_units(amount, exponent) %}{{ return(adapter.dispatch('to_major_units', 'stripe_elt')(amount, exponent)) }}{% endmacro %}

{#- Multiplying by a decimal keeps the result a decimal (dividing gives a DOUBLE in DuckDB). -#}
{% macro duckdb__to_major_units(amount, exponent) %}cast({{ amount }} * cast(power(10, -{{ exponent }}) as decimal(18, 3)) as decimal(38, 3)){% endmacro %}

{% macro bigquery__to_major_units(amount, exponent) %}cast({{ amount }} as numeric) / cast(pow(10, {{ exponent }}) as numeric){% endmacro %}

{% macro default__to_major_units(amount, exponent) %}cast({{ amount }} as decimal(38, 3)) / power(10, {{ exponent }}){% endmacro %}
