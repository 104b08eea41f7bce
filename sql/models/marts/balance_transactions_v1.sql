-- The ledger itemized: one row per balance transaction of every account (the platform's and its
-- connected accounts'), with its source object, the charge and customer behind it, and the
-- payout that paid it out. Grain: (account_id, balance_transaction_id).
with

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}
    where not is_deleted

),

sources as (

    select * from {{ ref('int_ledger__balance_transaction_sources') }}

),

sweeps as (

    select * from {{ ref('int_ledger__payout_sweeps') }}

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
        sweeps.payout_id
    from balance_transactions
    inner join sources
        on sources.account_id = balance_transactions.account_id
        and sources.balance_transaction_id = balance_transactions.id
    left join sweeps
        on sweeps.account_id = balance_transactions.account_id
        and sweeps.balance_transaction_id = balance_transactions.id

)

select * from final
