-- MRR by month, account and currency, and its movements counted per customer; the rules are
-- in the YAML.
with

item_months as (

    select * from {{ ref('subscription_mrr_monthly') }}

),

customer_months as (

    select
        account_id,
        currency,
        customer_id,
        month,
        extract(year from month) * 12 + extract(month from month) as month_number,
        sum(mrr) as mrr
    from item_months
    group by account_id, currency, customer_id, month

),

-- Each customer's MRR the month before (0 without a row then), and whether it ever had MRR
-- before this month.
customer_changes as (

    select
        account_id,
        currency,
        customer_id,
        month,
        mrr,
        case
            when lag(month_number) over customer_history = month_number - 1 then lag(mrr) over customer_history
            else 0
        end as previous_mrr,
        coalesce(max(case when mrr > 0 then 1 else 0 end) over (
            partition by account_id, currency, customer_id
            order by month
            rows between unbounded preceding and 1 preceding
        ), 0) = 1 as had_mrr_before
    from customer_months
    window customer_history as (partition by account_id, currency, customer_id order by month)

),

movements as (

    select
        *,
        case
            when previous_mrr = 0 and mrr > 0 and not had_mrr_before then 'new'
            when previous_mrr = 0 and mrr > 0 then 'reactivation'
            when previous_mrr > 0 and mrr > previous_mrr then 'expansion'
            when previous_mrr > 0 and mrr > 0 and mrr < previous_mrr then 'contraction'
            when previous_mrr > 0 and mrr = 0 then 'churned'
        end as movement
    from customer_changes

),

-- Every month of an account's currency, from its first subscription's month to its as-of month.
account_currencies as (

    select
        item_months.account_id,
        item_months.is_platform,
        item_months.currency,
        min(item_months.month) as first_month,
        max(as_of.as_of_month) as last_month
    from item_months
    inner join (
        select account_id, {{ mrr_month_of('as_of_at') }} as as_of_month
        from {{ ref('int_mrr__account_as_of') }}
    ) as as_of
        on as_of.account_id = item_months.account_id
    group by item_months.account_id, item_months.is_platform, item_months.currency

),

account_months as (

    select account_currencies.account_id, account_currencies.is_platform, account_currencies.currency, month
    from account_currencies
    {{ mrr_months_between('account_currencies.first_month', 'account_currencies.last_month', 'month') }}

),

{#- Each movement, and the amount it moves (a positive integer). -#}
{%- set movement_amounts = [
    ['new', 'mrr'],
    ['expansion', 'mrr - previous_mrr'],
    ['contraction', 'previous_mrr - mrr'],
    ['churned', 'previous_mrr'],
    ['reactivation', 'mrr']
] %}

totals as (

    select
        account_id,
        currency,
        month,
        sum(mrr) as mrr,
        sum(previous_mrr) as previous_mrr,
        sum(case when mrr > 0 then 1 else 0 end) as customers
        {%- for movement in movement_amounts %},
        sum(case when movement = '{{ movement[0] }}' then 1 else 0 end) as {{ movement[0] }}_customers,
        sum(case when movement = '{{ movement[0] }}' then {{ movement[1] }} else 0 end) as {{ movement[0] }}_mrr
        {%- endfor %}
    from movements
    group by account_id, currency, month

),

final as (

    select
        account_months.month,
        account_months.account_id,
        account_months.is_platform,
        account_months.currency,
        coalesce(totals.mrr, 0) as mrr,
        coalesce(totals.previous_mrr, 0) as previous_mrr,
        coalesce(totals.mrr, 0) - coalesce(totals.previous_mrr, 0) as net_new_mrr,
        coalesce(totals.customers, 0) as customers
        {%- for movement in movement_amounts %},
        coalesce(totals.{{ movement[0] }}_customers, 0) as {{ movement[0] }}_customers,
        coalesce(totals.{{ movement[0] }}_mrr, 0) as {{ movement[0] }}_mrr
        {%- endfor %}
    from account_months
    left join totals
        on totals.account_id = account_months.account_id
        and totals.currency = account_months.currency
        and totals.month = account_months.month

)

select * from final
