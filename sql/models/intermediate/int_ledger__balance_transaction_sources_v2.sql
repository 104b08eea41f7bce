-- Each balance transaction with its source object: what kind of object moved the funds (by the
-- transaction's type, as Stripe documents each type's source), and through it the charge, the
-- customer and the connected account on the other side. The rule is the macro
-- balance_transaction_sources (macros/ledger.sql), which the ledger's incremental build applies
-- to the transactions it rebuilds. Grain: (account_id, balance_transaction_id).
with

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}
    where not is_deleted

)

{{ balance_transaction_sources('balance_transactions') }}
