-- Which automatic payout paid out each balance transaction. Stripe lists them with
-- GET /v1/balance_transactions?payout=po_…, which the connector does not load (a balance
-- transaction's own object does not name its payout), so the link is derived by Stripe's rule
-- for automatic payouts: a payout sends every fund of its account and currency that is available
-- when it is created and not yet paid out. So a transaction goes out with the first automatic
-- payout created at or after its available_on: the payout whose window (the previous payout's
-- creation, its own creation] holds available_on. The payout's own transaction (available at
-- once) falls in its own window, as Stripe lists it too. Funds not yet paid out have no row. The
-- rule is the macro payout_sweeps (macros/ledger.sql), which the ledger's incremental build
-- applies to the transactions it rebuilds. Grain: (account_id, balance_transaction_id).
with

balance_transactions as (

    select account_id, id, currency, available_on_at
    from {{ ref('stg_stripe__balance_transactions') }}
    where not is_deleted

),

automatic_payouts as (

    select account_id, id, currency, created_at
    from {{ ref('stg_stripe__payouts') }}
    where not is_deleted and is_automatic

)

{{ payout_sweeps('balance_transactions', 'automatic_payouts') }}
