// The customers and account_summary marts equal the figures computed in TypeScript from the
// simulator's truth (truth-customers.ts), at the first sync and after a disconnect, deletions,
// 20 days and an incremental sync; and the incremental build equals a full rebuild.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customersFromTruth, plainRows, sortRows, warehouseTruth, type CustomerRow } from './truth-customers.js';
import { martsWorld, type MartsWorld } from './world.js';

let world: MartsWorld;
beforeAll(async () => {
  world = await martsWorld();
}, 300_000);
afterAll(() => world?.close());

const CUSTOMER_GRAIN = ['account_id', 'customer_id', 'currency'] as const;

async function martRows(stage: 'first' | 'second' | 'second_full_refresh', mart: string, grain: readonly string[]): Promise<Record<string, unknown>[]> {
  return sortRows(plainRows(await world.rows(stage, `SELECT * FROM stripe_marts.${mart}`)), grain);
}

function expectedCustomers(stage: 'first' | 'second'): CustomerRow[] {
  return sortRows(customersFromTruth(warehouseTruth(world, stage), world.platform), [...CUSTOMER_GRAIN]);
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
    expect(deleted.every((r) => r.active_subscriptions === 0)).toBe(true);
    // Customers deleted before the first load: known only from their charges.
    expect(rows.filter((r) => r.is_deleted === null && r.sales_amount > 0).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.currency === null).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.refunded_amount > 0).length).toBeGreaterThan(5);
    // A dispute's withdrawal takes the net below sales less refunds and fees.
    expect(rows.some((r) => r.net < r.sales_amount - r.refunded_amount - r.fees)).toBe(true);
    expect(rows.some((r) => r.failed_charges > 0 && r.active_subscriptions > 0)).toBe(true);
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(['usd', 'eur', 'gbp', 'jpy', null]));
    expect(rows.filter((r) => r.account_id === world.disconnected).length).toBeGreaterThan(10);
    expect(rows.filter((r) => r.is_platform).length).toBeGreaterThan(10);
  });

  it('after the incremental sync, equals a full rebuild', async () => {
    expect(await martRows('second', 'customers', CUSTOMER_GRAIN)).toEqual(await martRows('second_full_refresh', 'customers', CUSTOMER_GRAIN));
  });
});
