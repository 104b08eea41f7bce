// The MRR models against MRR computed in TypeScript from the simulator's truth (truth-mrr.ts):
// the current MRR of each subscription item, its history by month, and the monthly movements
// per account and currency, at both stages of the marts' world and after a full rebuild.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentItemMrr, itemMonthMrr, mrrMonths, type AccountObject } from './truth-mrr.js';
import { martsWorld, type MartsWorld, type Stage } from './world.js';

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
    for (const row of monthly) if (row.month === '2026-11-01' && row.mrr > 0) lastMonth.set(`${row.account_id}/${row.subscription_item_id}`, row.mrr);
    expect(Object.fromEntries(lastMonth)).toEqual(Object.fromEntries(expected.filter((r) => r.account_id !== world.disconnected).map((r) => [`${r.account_id}/${r.subscription_item_id}`, r.mrr])));
  });
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
