{#- reporting_category_of gives an older balance transaction without a reporting category the
    one Stripe groups its type in: a payment is a charge, a payment_refund a refund, a failed
    payout a payout_reversal, an application fee a platform_earning, a Stripe fee a fee, and an
    adjustment stays adjustment. Fails with each type categorized otherwise. -#}
with

examples as (
    select 'charge' as type, 'charge' as expected
    union all select 'payment', 'charge'
    union all select 'payment_refund', 'refund'
    union all select 'payout_failure', 'payout_reversal'
    union all select 'transfer_cancel', 'transfer_reversal'
    union all select 'application_fee', 'platform_earning'
    union all select 'application_fee_refund', 'platform_earning_refund'
    union all select 'stripe_fee', 'fee'
    union all select 'adjustment', 'adjustment'
),

categorized as (
    select
        examples.type,
        examples.expected,
        {{ reporting_category_of('examples.type') }} as category
    from examples
)

select *
from categorized
where category != expected
