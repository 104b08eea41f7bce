// The ledger's incremental rule, case by case, on raw rows written by hand: a build after a load
// rebuilds exactly the transactions whose row the load changed — the charge behind one arriving
// later (its customer), a payout created before an existing one (the funds of its window move to
// it), a new payout sweeping what was waiting, a transaction marked deleted (the post-hook takes
// it out) — and ends equal to a full refresh of the same raw tables.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transform } from '../../connector/commands/transform.js';
import { createTableStatement, RAW_TABLE } from '../../connector/loaders/duckdb/tables.js';
import { openWarehouse, type Warehouse } from '../../connector/loaders/warehouse.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import type { TransformSummary } from '../../transforms/runner.js';

const ACCOUNT = 'acct_platform';
const DAY = 86_400;
const T0 = 1_767_225_600; // 2026-01-01

let dir: string;
let path: string;
let second: TransformSummary;

async function withWarehouse<T>(file: string, use: (warehouse: Warehouse) => Promise<T>): Promise<T> {
  const warehouse = await openWarehouse(`duckdb:${file}`);
  try {
    await warehouse.open();
    return await use(warehouse);
  } finally {
    await warehouse.close();
  }
}

/** One raw row, written now (synced_at), as a load writes it. */
async function write(warehouse: Warehouse, stream: string, data: Record<string, unknown>): Promise<void> {
  await warehouse.client.execute(
    `INSERT INTO stripe_raw.${stream} VALUES ($account, $id, false, to_timestamp($created), false, now(), now(), $data::JSON)`,
    { account: ACCOUNT, id: String(data.id), created: Number(data.created), data: JSON.stringify(data) },
  );
}

function transaction(id: string, type: 'charge' | 'payout', source: string, availableOn: number, amount: number): Record<string, unknown> {
  return { id, object: 'balance_transaction', amount, fee: 0, net: amount, currency: 'usd', type, reporting_category: type, source, created: availableOn - DAY, available_on: availableOn, status: 'available' };
}

function charge(id: string, customer: string): Record<string, unknown> {
  return { id, object: 'charge', amount: 1000, amount_captured: 1000, amount_refunded: 0, currency: 'usd', status: 'succeeded', paid: true, captured: true, customer, created: T0, metadata: {} };
}

function payout(id: string, created: number, amount: number): Record<string, unknown> {
  return { id, object: 'payout', amount, currency: 'usd', status: 'paid', automatic: true, method: 'standard', type: 'bank_account', arrival_date: created + DAY, balance_transaction: `txn_${id}`, created, metadata: {} };
}

async function ledger(file: string): Promise<Record<string, unknown>[]> {
  return withWarehouse(file, async (warehouse) =>
    (await warehouse.client.query('SELECT balance_transaction_id AS id, customer_id, payout_id FROM stripe_marts.balance_transactions ORDER BY 1')).rows as Record<string, unknown>[],
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-ledger-incremental-'));
  path = join(dir, 'w.duckdb');
  await withWarehouse(path, async (warehouse) => {
    await warehouse.migrate();
    await warehouse.client.execute('CREATE SCHEMA IF NOT EXISTS stripe_raw');
    for (const stream of STREAM_NAMES) await warehouse.client.execute(createTableStatement(`stripe_raw."${stream}"`, RAW_TABLE));
    await warehouse.client.execute(`INSERT INTO stripe_elt.settings VALUES ('mode', 'test'), ('platform', '${ACCOUNT}')`);
    // The first load: ch_1's transaction without ch_1 (its customer unknown yet), po_a sweeping
    // what was available by day 3, two transactions waiting for a payout.
    await write(warehouse, 'balance_transactions', transaction('txn_0', 'charge', 'ch_0', T0 + DAY / 2, 500));
    // Before every payout the second load brings: only its charge can rebuild it.
    await write(warehouse, 'balance_transactions', transaction('txn_1', 'charge', 'ch_1', T0 - 10 * DAY, 1000));
    await write(warehouse, 'payouts', payout('po_early', T0 - 9 * DAY, -1000));
    await write(warehouse, 'balance_transactions', transaction('txn_po_early', 'payout', 'po_early', T0 - 9 * DAY, -1000));
    await write(warehouse, 'charges', charge('ch_2', 'cus_2'));
    await write(warehouse, 'balance_transactions', transaction('txn_2', 'charge', 'ch_2', T0 + 4 * DAY, 2000));
    await write(warehouse, 'balance_transactions', transaction('txn_3', 'charge', 'ch_3', T0 + 5 * DAY, 3000));
    await write(warehouse, 'payouts', payout('po_a', T0 + 3 * DAY, -1500));
    await write(warehouse, 'balance_transactions', transaction('txn_po_a', 'payout', 'po_a', T0 + 3 * DAY, -1500));
    const first = await transform(warehouse);
    expect(first.failures, JSON.stringify([first.nodes.filter((n) => n.outcome !== 'success'), first.tests.filter((t) => t.outcome !== 'pass')], null, 1)).toBe(0);
  });
  expect(await ledger(path)).toEqual([
    { id: 'txn_0', customer_id: null, payout_id: 'po_a' },
    { id: 'txn_1', customer_id: null, payout_id: 'po_early' },
    { id: 'txn_2', customer_id: 'cus_2', payout_id: null },
    { id: 'txn_3', customer_id: null, payout_id: null },
    { id: 'txn_po_a', customer_id: null, payout_id: 'po_a' },
    { id: 'txn_po_early', customer_id: null, payout_id: 'po_early' },
  ]);
  await withWarehouse(path, async (warehouse) => {
    // The second load: ch_1 at last; po_0, created before po_a, takes txn_0; po_b sweeps txn_2;
    // txn_3 is no longer listed (marked deleted).
    await write(warehouse, 'charges', charge('ch_1', 'cus_1'));
    await write(warehouse, 'payouts', payout('po_0', T0 + DAY, -500));
    await write(warehouse, 'balance_transactions', transaction('txn_po_0', 'payout', 'po_0', T0 + DAY, -500));
    await write(warehouse, 'payouts', payout('po_b', T0 + 6 * DAY, -5000));
    await write(warehouse, 'balance_transactions', transaction('txn_po_b', 'payout', 'po_b', T0 + 6 * DAY, -5000));
    await warehouse.client.execute("UPDATE stripe_raw.balance_transactions SET is_deleted = true, synced_at = now() WHERE id = 'txn_3'");
    second = await transform(warehouse);
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the ledger built incrementally after a second load', () => {
  it('rebuilt incrementally, the post-hook after', () => {
    expect(second.failures).toBe(0);
    expect(second.nodes.find((n) => n.name === 'balance_transactions')).toMatchObject({ materialized: 'incremental', outcome: 'success', rows: 7 });
  });

  it('holds the late charge, both payouts and not the deleted transaction', async () => {
    expect(await ledger(path)).toEqual([
      { id: 'txn_0', customer_id: null, payout_id: 'po_0' },
      { id: 'txn_1', customer_id: 'cus_1', payout_id: 'po_early' },
      { id: 'txn_2', customer_id: 'cus_2', payout_id: 'po_b' },
      { id: 'txn_po_0', customer_id: null, payout_id: 'po_0' },
      { id: 'txn_po_a', customer_id: null, payout_id: 'po_a' },
      { id: 'txn_po_b', customer_id: null, payout_id: 'po_b' },
      { id: 'txn_po_early', customer_id: null, payout_id: 'po_early' },
    ]);
  });

  it('equals a full refresh of the same raw tables, synced_at included', async () => {
    const full = join(dir, 'full.duckdb');
    copyFileSync(path, full);
    await withWarehouse(full, async (warehouse) => expect((await transform(warehouse, { select: ['balance_transactions'], fullRefresh: true })).failures).toBe(0));
    const everything = (file: string) => withWarehouse(file, async (warehouse) => (await warehouse.client.query('SELECT * FROM stripe_marts.balance_transactions ORDER BY balance_transaction_id')).rows);
    expect(await everything(path)).toEqual(await everything(full));
  });
});
