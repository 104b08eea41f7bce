{#- Dialect helpers of the ledger marts (balance transactions, payouts, monthly statements); their
    days and months are the activity marts' (activity.sql). -#}

{#- The type of a text column, for a typed null. -#}
{% macro ledger_text_type() %}{{ return(adapter.dispatch('ledger_text_type', 'stripe_elt')()) }}{% endmacro %}

{% macro duckdb__ledger_text_type() %}varchar{% endmacro %}

{% macro bigquery__ledger_text_type() %}string{% endmacro %}

{% macro default__ledger_text_type() %}varchar{% endmacro %}

{#- Each balance transaction of `balance_transactions` (a relation or CTE with the staging model's
    columns) with its source object, by int_ledger__balance_transaction_sources' rule: the kind of
    object that moved the funds (by the transaction's type, as Stripe documents each type's
    source), and through it the charge, the customer and the connected account on the other side;
    synced_at is when the newest of the transaction, its source object and its charge was loaded.
    A macro, so that the ledger's incremental build applies the same rule to the transactions it
    rebuilds. -#}
{% macro balance_transaction_sources(balance_transactions) %}
    select
        linked.account_id,
        linked.balance_transaction_id,
        linked.source_id,
        linked.source_type,
        linked.charge_id,
        linked.connected_account_id,
        -- The customer is the charge's, on the account that holds the charge: an application
        -- fee's charge is the connected account's, with the connected account's customer, so it
        -- has none here.
        charges.customer_id,
        -- BigQuery's greatest() is null if any argument is: a missing object stands aside.
        greatest(linked.synced_at, coalesce(charges.synced_at, linked.synced_at)) as synced_at
    from (

        select
            typed.account_id,
            typed.balance_transaction_id,
            typed.source_id,
            typed.source_type,
            case when typed.source_type = 'charge' then typed.source_id else source_objects.charge_id end as charge_id,
            source_objects.connected_account_id,
            greatest(typed.synced_at, coalesce(source_objects.synced_at, typed.synced_at)) as synced_at
        from (

            select
                account_id,
                id as balance_transaction_id,
                source_id,
                case
                    when type in ('charge', 'payment') then 'charge'
                    when type in ('refund', 'payment_refund', 'refund_failure') then 'refund'
                    when type = 'adjustment' and reporting_category in ('dispute', 'dispute_reversal') then 'dispute'
                    when type in ('payout', 'payout_cancel', 'payout_failure') then 'payout'
                    when type in ('transfer', 'transfer_cancel', 'transfer_failure') then 'transfer'
                    when type = 'application_fee' then 'application_fee'
                    else 'other'
                end as source_type,
                synced_at
            from {{ balance_transactions }}

        ) as typed
        -- The source objects that lead to a charge or to another account, by type: one join for all.
        left join (

            select account_id, id, 'refund' as source_type, charge_id, cast(null as {{ ledger_text_type() }}) as connected_account_id, synced_at
            from {{ ref('stg_stripe__refunds') }}
            union all
            select account_id, id, 'dispute', charge_id, null, synced_at
            from {{ ref('stg_stripe__disputes') }}
            union all
            select account_id, id, 'application_fee', charge_id, connected_account_id, synced_at
            from {{ ref('stg_stripe__application_fees') }}
            union all
            select account_id, id, 'transfer', null, destination_id, synced_at
            from {{ ref('stg_stripe__transfers') }}

        ) as source_objects
            on source_objects.account_id = typed.account_id
            and source_objects.source_type = typed.source_type
            and source_objects.id = typed.source_id

    ) as linked
    left join {{ ref('stg_stripe__charges') }} as charges
        on charges.account_id = linked.account_id
        and charges.id = linked.charge_id
{% endmacro %}

{#- Which automatic payout paid out each transaction of `balance_transactions` (account_id, id,
    currency, available_on_at), among `automatic_payouts` (account_id, id, currency, created_at),
    by int_ledger__payout_sweeps' rule: the first automatic payout of its account and currency
    created at or after its available_on. The transactions' available_on and the payouts' creations
    on one timeline per account and currency; at the same second a transaction comes before the
    payout, which sends it. (A range join of each transaction with the payouts' windows compared
    every pair of an account and currency: 497 s for 10 million transactions; this is one sort.)
    The window looks only forward, so a timeline cut before a transaction's available_on gives it
    the same payout: the ledger's incremental build passes only the payouts it needs. -#}
{% macro payout_sweeps(balance_transactions, automatic_payouts) %}
    select account_id, payout_id, balance_transaction_id
    from (

        select
            account_id,
            balance_transaction_id,
            is_payout,
            first_value(payout_id ignore nulls) over (
                partition by account_id, currency
                order by happened_at, is_payout, payout_id
                rows between current row and unbounded following
            ) as payout_id
        from (

            select account_id, currency, available_on_at as happened_at, 0 as is_payout, id as balance_transaction_id, cast(null as {{ ledger_text_type() }}) as payout_id
            from {{ balance_transactions }}
            union all
            select account_id, currency, created_at, 1, null, id
            from {{ automatic_payouts }}

        ) as timeline

    ) as swept
    where is_payout = 0 and payout_id is not null
{% endmacro %}

{#- The ledger's post-hook: a transaction marked deleted since it was built leaves the table (an
    incremental build writes only the rows that are, and takes the place of none that is not). -#}
{% macro forget_deleted_balance_transactions() %}
delete from {{ this }} as ledger
where exists (
    select 1 from {{ ref('stg_stripe__balance_transactions') }} as balance_transactions
    where balance_transactions.is_deleted
        and balance_transactions.account_id = ledger.account_id
        and balance_transactions.id = ledger.balance_transaction_id
)
{% endmacro %}

