// The customers and account_summary marts equal the figures computed in TypeScript from the
// simulator's truth (truth-customers.ts), at the first sync and after a disconnect, deletions,
// 20 days and an incremental sync; and the incremental build equals a full rebuild.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountActivityDaily } from './truth-activity.js';
import { accountSummaryFromTruth, customersFromTruth, isoSeconds, plainRows, sortRows, warehouseTruth, type AccountSummaryRow, type CustomerRow, type ItemMrr } from './truth-customers.js';
import { currentItemMrr } from './truth-mrr.js';
import type { TruthLine } from '../simulator-spec/helpers.js';
import { martsWorld, type MartsWorld } from './world.js';

let world: MartsWorld;
beforeAll(async () => {
  world = await martsWorld();
}, 300_000);
afterAll(() => world?.close());

const CUSTOMER_GRAIN = ['account_id', 'customer_id', 'currency'] as const;
const SUMMARY_GRAIN = ['account_id', 'currency'] as const;

async function martRows(stage: 'first' | 'second' | 'second_full_refresh', mart: string, grain: readonly string[]): Promise<Record<string, unknown>[]> {
  return sortRows(plainRows(await world.rows(stage, `SELECT * FROM stripe_marts.${mart}`)), grain);
}

/** The current MRR of each subscription item the warehouse holds, by the MRR oracle. */
function itemsMrr(lines: readonly TruthLine[]): ItemMrr[] {
  return currentItemMrr(lines.filter((l) => l.stream !== 'accounts' && l.stream !== 'events' && !l.deleted).map((l) => ({ stream: l.stream, account: l.account_id, object: l.object })));
}

function expectedCustomers(stage: 'first' | 'second'): CustomerRow[] {
  const lines = warehouseTruth(world, stage);
  return sortRows(customersFromTruth(lines, world.platform, itemsMrr(lines)), [...CUSTOMER_GRAIN]);
}

describe('customers', () => {
  it.each(['first', 'second'] as const)('equals, row for row, the figures computed from the truth at the %s sync', async (stage) => {
    const expected = expectedCustomers(stage);
    expect(await martRows(stage, 'customers', CUSTOMER_GRAIN)).toEqual(expected);
  });

  it('covers every case its definition names: deleted customers, customers without a record, without money, refunds, disputes, a disconnected account', () => {
    const rows = expectedCustomers('second');
    const deleted = rows.filter((r) => r.is_deleted === true);
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.every((r) => r.active_subscriptions === 0 && r.mrr === 0)).toBe(true);
    // Customers deleted before the first load: known only from their charges.
    expect(rows.filter((r) => r.is_deleted === null && r.sales_amount > 0).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.currency === null).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.refunded_amount > 0).length).toBeGreaterThan(5);
    // A dispute's withdrawal takes the net below sales less refunds and fees.
    expect(rows.some((r) => r.net < r.sales_amount - r.refunded_amount - r.fees)).toBe(true);
    expect(rows.some((r) => r.failed_charges > 0 && r.active_subscriptions > 0)).toBe(true);
    expect(rows.filter((r) => r.mrr > 0).length).toBeGreaterThan(100);
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(['usd', 'eur', 'gbp', 'jpy', null]));
    expect(rows.filter((r) => r.account_id === world.disconnected).length).toBeGreaterThan(10);
    expect(rows.filter((r) => r.is_platform).length).toBeGreaterThan(10);
  });

  it('after the incremental sync, equals a full rebuild', async () => {
    expect(await martRows('second', 'customers', CUSTOMER_GRAIN)).toEqual(await martRows('second_full_refresh', 'customers', CUSTOMER_GRAIN));
  });
});

function expectedSummary(stage: 'first' | 'second'): AccountSummaryRow[] {
  const lines = warehouseTruth(world, stage);
  // The trailing window ends when the stage's sync read Stripe: one second before the simulator's
  // clock, as the README says a listed object's observed_at is.
  const asOf = world.now[stage] - 1;
  return sortRows(accountSummaryFromTruth({ lines, platform: world.platform, days: accountActivityDaily(lines, world.platform), items: itemsMrr(lines), asOf }), [...SUMMARY_GRAIN]);
}

describe('account_summary', () => {
  it.each(['first', 'second'] as const)('equals, row for row, the figures computed from the truth at the %s sync', async (stage) => {
    expect(await martRows(stage, 'account_summary', SUMMARY_GRAIN)).toEqual(expectedSummary(stage));
  });

  it('covers what its definition names: the platform, a disconnected account, trailing 30 days short of the lifetime, every currency', () => {
    const rows = expectedSummary('second');
    expect(rows.map((r) => [r.account_id === world.platform, r.connection_status])).toEqual(
      expect.arrayContaining([
        [true, 'platform'],
        [false, 'disconnected'],
        [false, 'connected'],
      ]),
    );
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(['usd', 'eur', 'gbp', 'jpy']));
    for (const row of rows.filter((r) => r.connection_status !== 'disconnected')) {
      expect(row.trailing_30d_charges, row.account_id).toBeGreaterThan(0);
      expect(row.trailing_30d_charges, row.account_id).toBeLessThan(row.lifetime_charges);
    }
    // The disconnected account keeps its figures of the first sync.
    const disconnected = rows.find((r) => r.connection_status === 'disconnected');
    expect(disconnected?.last_charge_at ?? '').toMatch(/^2026-10-31T/);
    expect(disconnected?.as_of_at).toBe(isoSeconds(world.now.second - 1));
    expect(rows.some((r) => r.lifetime_disputes > 0 && r.lifetime_refunds > 0 && r.lifetime_payouts > 0)).toBe(true);
    expect(rows.filter((r) => r.lifetime_application_fees > 0).map((r) => r.is_platform)).toEqual([true]);
    expect(rows.every((r) => r.mrr > 0 && r.active_subscriptions > 0)).toBe(true);
  });

  it('after the incremental sync, equals a full rebuild', async () => {
    expect(await martRows('second', 'account_summary', SUMMARY_GRAIN)).toEqual(await martRows('second_full_refresh', 'account_summary', SUMMARY_GRAIN));
  });
});
