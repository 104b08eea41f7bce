// The MRR models against MRR computed in TypeScript from the simulator's truth (truth-mrr.ts):
// the current MRR of each subscription item, its history by month, and the monthly movements
// per account and currency, at both stages of the marts' world and after a full rebuild.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transform } from '../../connector/commands/transform.js';
import { DuckDBLoader } from '../../connector/loaders/duckdb/duckdb-loader.js';
import { openReader } from '../../connector/loaders/warehouse.js';
import { STREAM_NAMES, type StreamName } from '../../connector/streams/catalog.js';
import type { StreamState } from '../../connector/sync/state.js';
import { bigqueryWarehouse, commit, duckdbWarehouse, type TestWarehouse } from '../loaders/warehouses.js';
import { assertDbtInstalled, runDbt } from '../transforms/dbt.js';
import { SEED_AS_OF, SEED_CONNECTED, SEED_PLATFORM, mrrSeed, seedRecords } from './mrr-seed.js';
import { currentItemMrr, itemForeverDiscounts, itemMonthMrr, mrrMonths, type AccountObject } from './truth-mrr.js';
import { martsWorld, monthOf, type MartsWorld, type Stage } from './world.js';

let world: MartsWorld;
beforeAll(async () => {
  world = await martsWorld();
}, 300_000);
afterAll(() => world?.close());

/**
 * The objects each stage's warehouse holds, from the truth: the account that disconnected before
 * the second sync keeps what the first sync saw (the truth no longer shows it).
 */
function objectsAt(stage: 'first' | 'second'): AccountObject[] {
  const lines = stage === 'first' ? world.truthAt('first') : [...world.truthAt('second'), ...world.truthAt('first').filter((l) => l.account_id === world.disconnected)];
  return lines.filter((l) => l.stream !== 'accounts' && l.stream !== 'events' && !l.deleted).map((l) => ({ stream: l.stream, account: l.account_id, object: l.object as AccountObject['object'] }));
}

/** Each account's as-of instant: the last second before its last sync saw Stripe's clock. */
function asOfAt(stage: 'first' | 'second'): Map<string, number> {
  const accounts = new Set(world.truthAt('first').map((l) => l.account_id));
  return new Map([...accounts].map((a) => [a, (stage === 'first' || a === world.disconnected ? world.now.first : world.now.second) - 1]));
}

/** Rows as plain values: integers as numbers. */
async function rowsOf(stage: Stage, sql: string): Promise<Record<string, unknown>[]> {
  const rows = await world.rows(stage, sql);
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}

function sorted<T extends Record<string, unknown>>(rows: readonly T[], keys: readonly (keyof T & string)[]): T[] {
  const key = (row: T) => keys.map((k) => String(row[k])).join('|');
  return [...rows].sort((a, b) => key(a).localeCompare(key(b)));
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** Forever discounts of the world's items at each stage: all, and those of subscriptions that count toward MRR. */
const FOREVER_DISCOUNTS = { first: [6, 4], second: [6, 4] } as const;

const CURRENT = 'SELECT * FROM stripe_intermediate.int_mrr__subscription_items_current_v1';
const MONTHLY = 'SELECT * FROM stripe_marts.subscription_mrr_monthly';

describe('int_mrr__subscription_items_current', () => {
  for (const stage of ['first', 'second'] as const) {
    it(`holds each active or past_due subscription item with its MRR, as the truth gives it (${stage})`, async () => {
      const expected = currentItemMrr(objectsAt(stage));
      expect(expected.length).toBeGreaterThan(100);
      const actual = await rowsOf(stage, CURRENT);
      expect(sorted(actual, ['account_id', 'subscription_item_id'])).toEqual(sorted(expected as unknown as Record<string, unknown>[], ['account_id', 'subscription_item_id']));
    });
  }
});

describe('subscription_mrr_monthly', () => {
  for (const stage of ['first', 'second'] as const) {
    it(`holds each subscription item's MRR in each month of its subscription's life, from its billing periods (${stage})`, async () => {
      const expected = itemMonthMrr(objectsAt(stage), asOfAt(stage), world.platform).map((r) => ({ ...r, evaluated_at: iso(r.evaluated_at) }));
      expect(expected.filter((r) => r.mrr > 0).length).toBeGreaterThan(1000);
      const actual = await rowsOf(stage, `SELECT * REPLACE (CAST(month AS VARCHAR) AS month) FROM stripe_marts.subscription_mrr_monthly`);
      expect(sorted(actual, ['account_id', 'subscription_item_id', 'month'])).toEqual(sorted(expected as unknown as Record<string, unknown>[], ['account_id', 'subscription_item_id', 'month']));
    });
  }

  it('after the incremental sync equals a full rebuild', async () => {
    const order = ' ORDER BY account_id, subscription_item_id, month';
    expect(await rowsOf('second', MONTHLY + order)).toEqual(await rowsOf('second_full_refresh', MONTHLY + order));
  });

  it("gives each item's as-of month the MRR the current model gives it", async () => {
    const expected = currentItemMrr(objectsAt('second'));
    const monthly = itemMonthMrr(objectsAt('second'), asOfAt('second'), world.platform);
    const lastMonth = new Map<string, number>();
    const asOfMonth = monthOf(world.now.second - 1);
    for (const row of monthly) if (row.month === asOfMonth && row.mrr > 0) lastMonth.set(`${row.account_id}/${row.subscription_item_id}`, row.mrr);
    // An item whose forever coupon takes its whole amount has no MRR in either.
    const counted = expected.filter((r) => r.account_id !== world.disconnected && r.mrr > 0);
    expect(Object.fromEntries(lastMonth)).toEqual(Object.fromEntries(counted.map((r) => [`${r.account_id}/${r.subscription_item_id}`, r.mrr])));
  });
});

describe('forever coupons on synced subscriptions', () => {
  const FOREVER = 'SELECT account_id, subscription_id, subscription_item_id, discount_id, coupon_id FROM stripe_intermediate.int_mrr__subscription_item_forever_discounts_v1';
  const KEYS = ['account_id', 'subscription_item_id', 'discount_id'] as const;

  for (const stage of ['first', 'second'] as const) {
    it(`reduce the MRR of the items they discount, the connector having read the subscriptions' discounts expanded (${stage})`, async () => {
      const objects = objectsAt(stage);
      const expected = itemForeverDiscounts(objects);
      const counting = expected.filter((d) => d.status === 'active' || d.status === 'past_due');
      // The world holds forever coupons on subscriptions that count, and they reduce their MRR.
      expect([expected.length, counting.length]).toEqual(FOREVER_DISCOUNTS[stage]);
      const current = new Map(currentItemMrr(objects).map((r) => [`${r.account_id}/${r.subscription_item_id}`, r]));
      for (const d of counting) {
        const item = current.get(`${d.account_id}/${d.subscription_item_id}`);
        expect(item && item.mrr < item.period_amount, d.subscription_item_id).toBe(true);
      }
      const actual = await rowsOf(stage, FOREVER);
      expect(sorted(actual, [...KEYS])).toEqual(sorted(expected.map(({ status: _status, ...keys }) => keys), [...KEYS]));
    });
  }
});

describe('mrr_monthly', () => {
  const MRR = 'SELECT * REPLACE (CAST(month AS VARCHAR) AS month) FROM stripe_marts.mrr_monthly';

  for (const stage of ['first', 'second'] as const) {
    it(`holds each account's MRR by month and currency, and its movements per customer (${stage})`, async () => {
      const expected = mrrMonths(itemMonthMrr(objectsAt(stage), asOfAt(stage), world.platform), asOfAt(stage));
      const totals = (k: 'new_customers' | 'churned_customers' | 'expansion_customers' | 'contraction_customers' | 'reactivation_customers') => expected.reduce((sum, r) => sum + r[k], 0);
      expect(totals('new_customers')).toBeGreaterThan(100);
      expect(totals('churned_customers')).toBeGreaterThan(10);
      const actual = await rowsOf(stage, MRR);
      expect(sorted(actual, ['account_id', 'currency', 'month'])).toEqual(sorted(expected as unknown as Record<string, unknown>[], ['account_id', 'currency', 'month']));
    });
  }

  it('after the incremental sync equals a full rebuild', async () => {
    const order = ' ORDER BY account_id, currency, month';
    expect(await rowsOf('second', MRR + order)).toEqual(await rowsOf('second_full_refresh', MRR + order));
  });
});

/** A value as the oracle gives it: integers as numbers, dates and timestamps as text. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (value !== null && typeof value === 'object' && 'value' in value) return plain((value as { value: unknown }).value);
  return value;
}

describe('the MRR rules on a seeded account, built on DuckDB and on BigQuery', () => {
  const objects = mrrSeed();
  const asOf = new Map([[SEED_PLATFORM, SEED_AS_OF], [SEED_CONNECTED, SEED_AS_OF]]);
  const items = itemMonthMrr(objects, asOf, SEED_PLATFORM);
  const months = mrrMonths(items, asOf);
  const mrrOf = (item: string) => items.filter((r) => r.subscription_item_id === item).map((r) => [r.month.slice(0, 7), r.mrr]);

  it("follows Stripe's definition: intervals normalized, metered and free prices 0, forever coupons only, billing periods' prices and quantities", () => {
    expect(mrrOf('si_week')).toEqual([['2026-01', 4333], ['2026-02', 4333], ['2026-03', 4333], ['2026-04', 4333]]);
    expect(mrrOf('si_day')).toEqual([['2026-02', 3042], ['2026-03', 3042], ['2026-04', 3042]]);
    expect(mrrOf('si_quarter')).toEqual([['2026-01', 3000], ['2026-02', 3000], ['2026-03', 3000], ['2026-04', 3000]]);
    expect(mrrOf('si_metered_usage').map(([, mrr]) => mrr)).toEqual([0, 0, 0, 0]);
    expect(mrrOf('si_free').map(([, mrr]) => mrr)).toEqual([0, 0, 0, 0]);
    expect(mrrOf('si_pct').map(([, mrr]) => mrr)).toEqual([4000, 4000, 4000, 4000]);
    expect([mrrOf('si_off_a'), mrrOf('si_off_b')]).toEqual([
      [['2026-01', 3000], ['2026-02', 1875], ['2026-03', 1875], ['2026-04', 1875]],
      [['2026-01', 1000], ['2026-02', 625], ['2026-03', 625], ['2026-04', 625]],
    ]);
    expect(mrrOf('si_once').map(([, mrr]) => mrr)).toEqual([5000, 5000, 5000, 5000]);
    expect(mrrOf('si_change')).toEqual([['2026-01', 2000], ['2026-02', 2000], ['2026-03', 10000], ['2026-04', 5000]]);
    expect(mrrOf('si_unpaid')).toEqual([['2026-01', 4000], ['2026-02', 4000], ['2026-03', 0], ['2026-04', 0]]);
    expect(mrrOf('si_uncollectible')).toEqual([['2026-01', 2000], ['2026-02', 0]]);
    expect(mrrOf('si_past_due')).toEqual([['2026-03', 3500], ['2026-04', 3500]]);
    expect(mrrOf('si_trial')).toEqual([['2026-01', 0], ['2026-02', 2500], ['2026-03', 2500], ['2026-04', 2500]]);
    expect(mrrOf('si_incomplete')).toEqual([['2026-01', 0], ['2026-02', 1500], ['2026-03', 1500], ['2026-04', 1500]]);
    expect(mrrOf('si_jpy')).toEqual([['2026-02', 1000], ['2026-03', 1000], ['2026-04', 1000]]);
    const march = months.find((m) => m.account_id === SEED_CONNECTED && m.month === '2026-03-01');
    expect(march).toMatchObject({ reactivation_customers: 1, reactivation_mrr: 3000, expansion_customers: 1, expansion_mrr: 8000, churned_customers: 1, churned_mrr: 4000, new_customers: 1, new_mrr: 3500 });
    const february = months.find((m) => m.account_id === SEED_CONNECTED && m.month === '2026-02-01');
    expect(february).toMatchObject({ contraction_customers: 1, contraction_mrr: 1500, churned_customers: 2, churned_mrr: 5000 });
  });

  // A state for every stream: each raw table exists, as after a sync that found nothing else.
  const states = Object.fromEntries(STREAM_NAMES.map((stream) => [stream, { version: 2, platform: SEED_PLATFORM, accounts: {} } as StreamState]));
  const records = seedRecords(objects) as [StreamName, Record<string, unknown>][];

  /** The three models' rows (read with `query`) equal the oracle's. */
  async function expectOracleRows(query: (relation: string) => Promise<Record<string, unknown>[]>): Promise<void> {
    const read = async (relation: string) => (await query(relation)).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
    const itemRows: Record<string, unknown>[] = (await read('stripe_marts.subscription_mrr_monthly')).map((r) => ({ ...r, evaluated_at: Date.parse(String(r.evaluated_at)) / 1000 }));
    expect(sorted(itemRows, ['account_id', 'subscription_item_id', 'month'])).toEqual(sorted(items as unknown as Record<string, unknown>[], ['account_id', 'subscription_item_id', 'month']));
    expect(sorted(await read('stripe_marts.mrr_monthly'), ['account_id', 'currency', 'month'])).toEqual(sorted(months as unknown as Record<string, unknown>[], ['account_id', 'currency', 'month']));
    const current = currentItemMrr(objects);
    expect(sorted(await read('stripe_intermediate.int_mrr__subscription_items_current_v1'), ['account_id', 'subscription_item_id'])).toEqual(sorted(current as unknown as Record<string, unknown>[], ['account_id', 'subscription_item_id']));
  }

  const engines: [string, () => Promise<TestWarehouse>, (relation: string) => string][] = [
    ['DuckDB', duckdbWarehouse, (relation) => relation],
    ['BigQuery', () => bigqueryWarehouse(), (relation) => relation.split('.').map((p) => `\`${p}\``).join('.')],
  ];
  for (const [engine, open, name] of engines) {
    it(`builds with stripe-elt transform on ${engine} the same rows as the oracle, in all three models`, async () => {
      const warehouse = await open();
      try {
        await commit(warehouse.loader, records, states);
        const summary = await transform(warehouse.loader);
        expect(summary.nodes.filter((n) => n.outcome !== 'success').map((n) => `${n.name}: ${n.message ?? n.outcome}`)).toEqual([]);
        expect(summary.tests.filter((t) => t.outcome !== 'pass')).toEqual([]);
        await expectOracleRows(async (relation) => (await warehouse.loader.client.query(`SELECT * FROM ${name(relation)}`)).rows as Record<string, unknown>[]);
      } finally {
        await warehouse.close();
      }
    }, 120_000);
  }

  it('builds with real dbt on DuckDB the same rows as the oracle, every data test passing', async () => {
    assertDbtInstalled();
    const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-mrr-dbt-'));
    try {
      const file = join(dir, 'seed.duckdb');
      const loader = new DuckDBLoader(file);
      await loader.open();
      await commit(loader, records, states);
      await loader.close();
      const run = await runDbt('build', [], { warehouse: file, workDir: join(dir, 'dbt') });
      expect(run.code, run.output).toBe(0);
      const client = await openReader(`duckdb:${file}`);
      try {
        await expectOracleRows(async (relation) => (await client.query(`SELECT * FROM ${relation}`)).rows as Record<string, unknown>[]);
      } finally {
        await client.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
