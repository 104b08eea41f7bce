-- Which automatic payout paid out each balance transaction. Stripe lists them with
-- GET /v1/balance_transactions?payout=po_…, which the connector does not load (a balance
-- transaction's own object does not name its payout), so the link is derived by Stripe's rule
-- for automatic payouts: a payout sends every fund of its account and currency that is available
-- when it is created and not yet paid out. So a transaction goes out with the first automatic
-- payout created at or after its available_on: the payout whose window (the previous payout's
-- creation, its own creation] holds available_on. The payout's own transaction (available at
-- once) falls in its own window, as Stripe lists it too. Funds not yet paid out have no row.
-- Grain: (account_id, balance_transaction_id).
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

),

-- The transactions' available_on and the payouts' creations on one timeline per account and
-- currency; at the same second a transaction comes before the payout, which sends it. A range
-- join of each transaction with the payouts' windows compared every pair of an account and
-- currency (497 s for 10 million transactions); this is one sort.
timeline as (

    select account_id, currency, available_on_at as happened_at, 0 as is_payout, id as balance_transaction_id, cast(null as {{ ledger_text_type() }}) as payout_id
    from balance_transactions
    union all
    select account_id, currency, created_at, 1, null, id
    from automatic_payouts

),

swept as (

    select
        account_id,
        balance_transaction_id,
        is_payout,
        first_value(payout_id ignore nulls) over (
            partition by account_id, currency
            order by happened_at, is_payout, payout_id
            rows between current row and unbounded following
        ) as payout_id
    from timeline

),

final as (

    select account_id, payout_id, balance_transaction_id
    from swept
    where is_payout = 0 and payout_id is not null

)

select * from final
