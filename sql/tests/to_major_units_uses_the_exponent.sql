{#- to_major_units with the seed's exponent: 1000 minor units are 10.00 USD, 1000 JPY (zero
    decimals) and 1000 MGA (zero in Stripe's amounts, two in ISO), 10 ISK (two in Stripe's
    amounts, none in ISO); 1230 are 1.230 KWD (three). Fails with each amount converted
    otherwise. -#}
with

examples as (
    select 'usd' as currency, 1000 as amount, 10 as expected
    union all select 'jpy', 1000, 1000
    union all select 'kwd', 1230, 1.23
    union all select 'isk', 1000, 10
    union all select 'mga', 1000, 1000
),

converted as (
    select
        examples.currency,
        examples.amount,
        examples.expected,
        {{ to_major_units('examples.amount', 'currencies.exponent') }} as major_units
    from examples
    left join {{ ref('currencies') }} as currencies
        on currencies.currency = examples.currency
)

select *
from converted
where major_units is null or major_units != expected
