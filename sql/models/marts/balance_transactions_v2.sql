-- The ledger itemized: one row per balance transaction of every account (the platform's and its
-- connected accounts'), with its source object, the charge and customer behind it, and the
-- payout that paid it out. Grain: (account_id, balance_transaction_id).
--
-- An incremental table: a build after a load rebuilds only the transactions whose row the load
-- may have changed (below), by the same rules (the macros balance_transaction_sources and
-- payout_sweeps), and its post-hook takes out the transactions since marked deleted.
{{ config(post_hook="{{ forget_deleted_balance_transactions() }}") }}
with

{% if is_incremental() %}
-- What the loads since the last build wrote: every staging row at or after the newest synced_at
-- this table holds (read again at that instant, as staging does: rebuilding a row is harmless).
changed_transactions as (

    select account_id, id
    from {{ ref('stg_stripe__balance_transactions') }}
    where synced_at >= {{ last_build_watermark() }}

),

changed_charges as (

    select account_id, id
    from {{ ref('stg_stripe__charges') }}
    where synced_at >= {{ last_build_watermark() }}

),

-- A transaction's source object changed, or the charge behind it (its customer).
changed_sources as (

    select account_id, id from changed_charges
    {%- for relation in ['stg_stripe__refunds', 'stg_stripe__disputes', 'stg_stripe__application_fees'] %}
    union all
    select source_objects.account_id, source_objects.id
    from {{ ref(relation) }} as source_objects
    where source_objects.synced_at >= {{ last_build_watermark() }}
        or exists (
            select 1 from changed_charges
            where changed_charges.account_id = source_objects.account_id and changed_charges.id = source_objects.charge_id
        )
    {%- endfor %}
    union all
    select account_id, id
    from {{ ref('stg_stripe__transfers') }}
    where synced_at >= {{ last_build_watermark() }}

),

-- A payout created, changed or marked deleted re-decides the sweeps of its account and currency
-- from the automatic payout before it on (the funds its window now holds), and those of the
-- transactions it swept before (its creation or kind may have changed).
changed_payouts as (

    select account_id, id, currency, created_at
    from {{ ref('stg_stripe__payouts') }}
    where synced_at >= {{ last_build_watermark() }}

),

-- The automatic payout before each changed one opens its window: the latest created in an
-- earlier second. (One of the same second may sort before it too; the window from the second
-- before rebuilds a few more transactions, harmlessly, and keeps this an equality join: a
-- condition with `or` made it a nested loop over every pair of payouts, 2,740 × 1 million.)
payout_floors as (

    select
        changed_payouts.account_id,
        changed_payouts.currency,
        changed_payouts.id,
        max(earlier.created_at) as previous_created_at
    from changed_payouts
    inner join {{ ref('stg_stripe__payouts') }} as earlier
        on earlier.account_id = changed_payouts.account_id
        and earlier.currency = changed_payouts.currency
        and earlier.created_at < changed_payouts.created_at
    where not earlier.is_deleted and earlier.is_automatic
    group by changed_payouts.account_id, changed_payouts.currency, changed_payouts.id

),

sweep_floors as (

    select
        changed_payouts.account_id,
        changed_payouts.currency,
        -- With no automatic payout before it: the whole timeline.
        min(coalesce(payout_floors.previous_created_at, cast('1970-01-01' as timestamp))) as after_at
    from changed_payouts
    left join payout_floors
        on payout_floors.account_id = changed_payouts.account_id
        and payout_floors.id = changed_payouts.id
    group by changed_payouts.account_id, changed_payouts.currency

),

rebuilt as (

    select account_id, id from changed_transactions
    union distinct
    select balance_transactions.account_id, balance_transactions.id
    from {{ ref('stg_stripe__balance_transactions') }} as balance_transactions
    inner join changed_sources
        on changed_sources.account_id = balance_transactions.account_id
        and changed_sources.id = balance_transactions.source_id
    union distinct
    select balance_transactions.account_id, balance_transactions.id
    from {{ ref('stg_stripe__balance_transactions') }} as balance_transactions
    inner join sweep_floors
        on sweep_floors.account_id = balance_transactions.account_id
        and sweep_floors.currency = balance_transactions.currency
    where balance_transactions.available_on_at > sweep_floors.after_at
    union distinct
    select ledger.account_id, ledger.balance_transaction_id
    from {{ this }} as ledger
    inner join changed_payouts
        on changed_payouts.account_id = ledger.account_id
        and changed_payouts.id = ledger.payout_id

),
{% endif %}

balance_transactions as (

    select balance_transactions.*
    from {{ ref('stg_stripe__balance_transactions') }} as balance_transactions
    {%- if is_incremental() %}
    inner join rebuilt
        on rebuilt.account_id = balance_transactions.account_id
        and rebuilt.id = balance_transactions.id
    {%- endif %}
    where not balance_transactions.is_deleted

),

payouts as (

    select account_id, id, currency, created_at, is_automatic, is_deleted, synced_at
    from {{ ref('stg_stripe__payouts') }}

),

-- The payouts that may sweep these transactions: the sweep looks only forward, from each
-- transaction's available_on.
automatic_payouts as (

    select account_id, id, currency, created_at
    from payouts
    where not is_deleted and is_automatic
    {%- if is_incremental() %}
        and created_at >= (select min(available_on_at) from balance_transactions)
    {%- endif %}

),

sources as (

    {{ balance_transaction_sources('balance_transactions') }}

),

sweeps as (

    {{ payout_sweeps('balance_transactions', 'automatic_payouts') }}

),

final as (

    select
        balance_transactions.account_id,
        balance_transactions.is_platform,
        balance_transactions.id as balance_transaction_id,
        balance_transactions.created_at,
        balance_transactions.available_on_at,
        balance_transactions.status,
        balance_transactions.type,
        -- Older objects lack one: Stripe's category of their type.
        coalesce(balance_transactions.reporting_category, {{ reporting_category_of('balance_transactions.type') }}) as reporting_category,
        balance_transactions.currency,
        balance_transactions.amount,
        balance_transactions.fee,
        balance_transactions.net,
        balance_transactions.exchange_rate,
        balance_transactions.description,
        sources.source_id,
        sources.source_type,
        sources.charge_id,
        sources.customer_id,
        -- Since API version 2025-03-31.basil neither a charge nor an invoice names the other (the
        -- link is Stripe's Invoice Payments, which the connector does not load).
        cast(null as {{ ledger_text_type() }}) as invoice_id,
        cast(null as {{ ledger_text_type() }}) as subscription_id,
        sources.connected_account_id,
        sweeps.payout_id,
        greatest(sources.synced_at, coalesce(payouts.synced_at, sources.synced_at)) as synced_at
    from balance_transactions
    inner join sources
        on sources.account_id = balance_transactions.account_id
        and sources.balance_transaction_id = balance_transactions.id
    left join sweeps
        on sweeps.account_id = balance_transactions.account_id
        and sweeps.balance_transaction_id = balance_transactions.id
    left join payouts
        on payouts.account_id = sweeps.account_id
        and payouts.id = sweeps.payout_id

)

select * from final
