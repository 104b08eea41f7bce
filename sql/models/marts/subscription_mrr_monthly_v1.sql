-- The MRR of each subscription item in each month of its subscription's life, from the billing
-- periods of its invoices; the rules are in the YAML.
with

as_of as (

    select account_id, as_of_at, {{ mrr_epoch('as_of_at') }} as as_of_second
    from {{ ref('int_mrr__account_as_of') }}

),

subscriptions as (

    select
        subscriptions.account_id,
        subscriptions.id as subscription_id,
        subscriptions.is_platform,
        subscriptions.customer_id,
        subscriptions.currency,
        subscriptions.status,
        subscriptions.items,
        {{ mrr_epoch('subscriptions.start_date_at') }} as start_second,
        {{ mrr_epoch('subscriptions.ended_at') }} as ended_second,
        {{ mrr_epoch('subscriptions.trial_start_at') }} as trial_start_second,
        {{ mrr_epoch('subscriptions.trial_end_at') }} as trial_end_second,
        {{ mrr_month_of('subscriptions.start_date_at') }} as first_month,
        {{ mrr_month_of('least(coalesce(subscriptions.ended_at, as_of.as_of_at), as_of.as_of_at)') }} as last_month,
        as_of.as_of_second
    from {{ ref('stg_stripe__subscriptions') }} as subscriptions
    inner join as_of
        on as_of.account_id = subscriptions.account_id
    where not subscriptions.is_deleted
        and subscriptions.start_date_at is not null

),

-- A subscription's billing periods: its invoices' lines for its items (prorations left out),
-- each with the price and quantity billed for that period.
invoice_lines as (

    select
        invoices.account_id,
        invoices.id as invoice_id,
        invoices.status as invoice_status,
        invoices.billing_reason,
        {{ mrr_epoch('invoices.created_at') }} as invoice_created_second,
        {{ mrr_epoch('invoices.paid_at') }} as paid_second,
        {{ mrr_epoch('invoices.marked_uncollectible_at') }} as uncollectible_second,
        {{ json_text('id', 'line') }} as invoice_line_id,
        coalesce({{ json_text('parent.subscription_item_details.subscription', 'line') }}, {{ json_text('subscription', 'line') }}) as subscription_id,
        coalesce({{ json_text('parent.subscription_item_details.subscription_item', 'line') }}, {{ json_text('subscription_item', 'line') }}) as subscription_item_id,
        coalesce({{ json_boolean('parent.subscription_item_details.proration', 'line') }}, {{ json_boolean('proration', 'line') }}, false) as is_proration,
        coalesce({{ json_text('pricing.price_details.price', 'line') }}, {{ json_text('price.id', 'line') }}) as price_id,
        {{ json_integer('quantity', 'line') }} as quantity,
        {{ json_integer('period.start', 'line') }} as period_start_second,
        {{ json_integer('period.end', 'line') }} as period_end_second
    from {{ ref('stg_stripe__invoices') }} as invoices
    {{ mrr_unnest_json_list('invoices.lines', 'data', 'line') }}
    where not invoices.is_deleted
        and invoices.status in ('open', 'paid', 'uncollectible')

),

billed_periods as (

    select
        invoice_lines.*,
        prices.recurring_interval,
        prices.recurring_interval_count,
        {{ mrr_period_amount('prices.recurring_usage_type', 'prices.unit_amount', 'invoice_lines.quantity') }} as period_amount
    from invoice_lines
    inner join {{ ref('stg_stripe__prices') }} as prices
        on prices.account_id = invoice_lines.account_id
        and prices.id = invoice_lines.price_id
    where invoice_lines.subscription_item_id is not null
        and not invoice_lines.is_proration

),

-- Every item the subscription has had: its items now, and those its invoices billed.
items as (

    select distinct account_id, subscription_id, subscription_item_id
    from (
        select subscriptions.account_id, subscriptions.subscription_id, {{ json_text('id', 'item') }} as subscription_item_id
        from subscriptions
        {{ mrr_unnest_json_list('subscriptions.items', 'data', 'item') }}

        union all

        select account_id, subscription_id, subscription_item_id
        from billed_periods
    ) as named_items

),

-- Each month of the subscription's life, and the instant that stands for it: the month's
-- last second, or the account's as-of instant in the month it falls in.
item_months as (

    select
        items.account_id,
        items.subscription_id,
        items.subscription_item_id,
        subscriptions.is_platform,
        subscriptions.customer_id,
        subscriptions.currency,
        subscriptions.status as subscription_status,
        subscriptions.start_second,
        subscriptions.ended_second,
        subscriptions.trial_start_second,
        subscriptions.trial_end_second,
        month,
        least({{ mrr_month_last_second('month') }}, subscriptions.as_of_second) as at_second
    from items
    inner join subscriptions
        on subscriptions.account_id = items.account_id
        and subscriptions.subscription_id = items.subscription_id
    {{ mrr_months_between('subscriptions.first_month', 'subscriptions.last_month', 'month') }}

),

-- The billing period that holds the instant, if the subscription counted then: started, not
-- ended, not in a trial; its first invoice paid (before: incomplete); an invoice left open
-- on a subscription now unpaid or canceled never counts (Stripe records no time for the turn
-- from past_due to unpaid); an uncollectible one counts until it was so marked.
counted_periods as (

    select
        item_months.account_id,
        item_months.subscription_item_id,
        item_months.month,
        item_months.at_second,
        billed_periods.invoice_id,
        billed_periods.price_id,
        billed_periods.quantity,
        billed_periods.period_amount,
        billed_periods.recurring_interval,
        billed_periods.recurring_interval_count,
        row_number() over (
            partition by item_months.account_id, item_months.subscription_item_id, item_months.month
            order by billed_periods.period_start_second desc, billed_periods.invoice_created_second desc, billed_periods.invoice_line_id desc
        ) as latest_first
    from item_months
    inner join billed_periods
        on billed_periods.account_id = item_months.account_id
        and billed_periods.subscription_item_id = item_months.subscription_item_id
        and billed_periods.period_start_second <= item_months.at_second
        and item_months.at_second < billed_periods.period_end_second
    where item_months.start_second <= item_months.at_second
        and (item_months.ended_second is null or item_months.at_second < item_months.ended_second)
        and not (
            item_months.trial_start_second is not null
            and item_months.trial_end_second is not null
            and item_months.trial_start_second <= item_months.at_second
            and item_months.at_second < item_months.trial_end_second
        )
        and (coalesce(billed_periods.billing_reason, '') != 'subscription_create' or billed_periods.paid_second <= item_months.at_second)
        and not (billed_periods.invoice_status = 'open' and item_months.subscription_status in ('unpaid', 'canceled'))
        and (
            billed_periods.invoice_status != 'uncollectible'
            or billed_periods.uncollectible_second is null
            or item_months.at_second < billed_periods.uncollectible_second
        )

),

current_periods as (

    select * from counted_periods where latest_first = 1

),

-- With forever coupons started by then, the largest reduction counts.
period_mrr as (

    {{ mrr_after_forever_coupons('current_periods', ['account_id', 'subscription_item_id', 'month'], ref('int_mrr__subscription_item_forever_discounts'), 'at_second') }}

),

final as (

    select
        item_months.month,
        item_months.account_id,
        item_months.is_platform,
        item_months.subscription_id,
        item_months.subscription_item_id,
        item_months.customer_id,
        item_months.currency,
        {{ epoch_to_timestamp('item_months.at_second') }} as evaluated_at,
        current_periods.invoice_id,
        current_periods.price_id,
        current_periods.quantity,
        coalesce(current_periods.period_amount, 0) as period_amount,
        coalesce(period_mrr.mrr, 0) as mrr
    from item_months
    left join current_periods
        on current_periods.account_id = item_months.account_id
        and current_periods.subscription_item_id = item_months.subscription_item_id
        and current_periods.month = item_months.month
    left join period_mrr
        on period_mrr.account_id = item_months.account_id
        and period_mrr.subscription_item_id = item_months.subscription_item_id
        and period_mrr.month = item_months.month

)

select * from final
