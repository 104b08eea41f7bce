-- Each account's activity day by day in each currency it used, for trend charts: every UTC day
-- from the first to the last day the account had activity in the currency, days without any
-- present with zeros. Grain: (account_id, currency, day).
{%- set measures = [
    'charges', 'succeeded_charges', 'failed_charges', 'gross_volume',
    'refunds', 'refunded_amount', 'disputes', 'disputed_amount',
    'balance_transactions', 'fees', 'net', 'payouts', 'payout_amount',
    'application_fees', 'application_fee_amount', 'new_customers'
] %}
with

activity as (

    select * from {{ ref('int_activity__account_daily') }}

),

spans as (

    select
        account_id,
        is_platform,
        currency,
        min(day) as first_day,
        max(day) as last_day
    from activity
    group by 1, 2, 3

),

days as (

    select
        spans.account_id,
        spans.is_platform,
        spans.currency,
        day
    from spans
    cross join {{ date_series('spans.first_day', 'spans.last_day', 'day', 'day') }}

),

final as (

    select
        days.day,
        days.account_id,
        days.is_platform,
        days.currency,
        {%- for measure in measures %}
        coalesce(activity.{{ measure }}, 0) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from days
    left join activity
        on activity.account_id = days.account_id
        and activity.currency = days.currency
        and activity.day = days.day

)

select * from final
