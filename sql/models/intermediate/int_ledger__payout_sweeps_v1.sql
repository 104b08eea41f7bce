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

    select
        account_id,
        id,
        currency,
        created_at,
        lag(created_at) over (partition by account_id, currency order by created_at, id) as previous_created_at
    from {{ ref('stg_stripe__payouts') }}
    where not is_deleted and is_automatic

),

final as (

    select
        balance_transactions.account_id,
        automatic_payouts.id as payout_id,
        balance_transactions.id as balance_transaction_id
    from balance_transactions
    inner join automatic_payouts
        on automatic_payouts.account_id = balance_transactions.account_id
        and automatic_payouts.currency = balance_transactions.currency
        and balance_transactions.available_on_at <= automatic_payouts.created_at
        and (automatic_payouts.previous_created_at is null or balance_transactions.available_on_at > automatic_payouts.previous_created_at)

)

select * from final
