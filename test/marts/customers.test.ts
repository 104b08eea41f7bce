// The customers and account_summary marts equal the figures computed in TypeScript from the
// simulator's truth (truth-customers.ts), at the first sync and after a disconnect, deletions,
// 20 days and an incremental sync; and the incremental build equals a full rebuild.
import { parse as parseSql } from 'sql-parser-cst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../connector/commands/load.js';
import { transform } from '../../connector/commands/transform.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { allStreams, configFor } from '../connector/helpers.js';
import { bigqueryWarehouse } from '../loaders/warehouses.js';
import { startSimulator } from '../simulator/index.js';
import { control, truth, type TruthLine } from '../simulator-spec/helpers.js';
import { accountActivityDaily } from './truth-activity.js';
import {
  accountSummaryFromTruth,
  customersFromTruth,
  heldByFirstLoad,
  isoSeconds,
  plainRows,
  sortRows,
  warehouseTruth,
  type AccountSummaryRow,
  type CustomerRow,
  type ItemMrr,
} from './truth-customers.js';
import { currentItemMrr } from './truth-mrr.js';
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

function customersOf(lines: readonly TruthLine[], platform: string): CustomerRow[] {
  return sortRows(customersFromTruth(lines, platform, itemsMrr(lines)), [...CUSTOMER_GRAIN]);
}

/** `asOf`: when the sync read Stripe, one second before the simulator's clock, as the README says a listed object's observed_at is. */
function summaryOf(lines: readonly TruthLine[], platform: string, asOf: number): AccountSummaryRow[] {
  return sortRows(accountSummaryFromTruth({ lines, platform, days: accountActivityDaily(lines, platform), items: itemsMrr(lines), asOf }), [...SUMMARY_GRAIN]);
}

const expectedCustomers = (stage: 'first' | 'second') => customersOf(warehouseTruth(world, stage), world.platform);
const expectedSummary = (stage: 'first' | 'second') => summaryOf(warehouseTruth(world, stage), world.platform, world.now[stage] - 1);

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
    // Trailing figures are part of the lifetime ones, and some are a strict part of them.
    for (const row of rows) expect(row.trailing_30d_charges, row.account_id).toBeLessThanOrEqual(row.lifetime_charges);
    const connected = rows.filter((r) => r.connection_status !== 'disconnected');
    expect(connected.filter((r) => r.trailing_30d_charges > 0 && r.trailing_30d_charges < r.lifetime_charges).length).toBeGreaterThanOrEqual(3);
    // The disconnected account keeps its figures of the first sync.
    const disconnected = rows.find((r) => r.connection_status === 'disconnected');
    expect(disconnected?.last_charge_at ?? '').toMatch(/^2026-10-31T/);
    expect(disconnected?.as_of_at).toBe(isoSeconds(world.now.second - 1));
    expect(rows.some((r) => r.lifetime_disputes > 0 && r.lifetime_refunds > 0 && r.lifetime_payouts > 0)).toBe(true);
    // Only the platform collects application fees, in the currency of each fee's charge.
    const feeRows = rows.filter((r) => r.lifetime_application_fees > 0);
    expect(feeRows.length).toBeGreaterThan(1);
    expect(feeRows.every((r) => r.is_platform)).toBe(true);
    // Every account has subscriptions bringing MRR in one of its currencies at least.
    const withMrr = new Set(rows.filter((r) => r.mrr > 0 && r.active_subscriptions > 0).map((r) => r.account_id));
    expect([...withMrr].sort()).toEqual([...new Set(rows.map((r) => r.account_id))].sort());
  });

  it('after the incremental sync, equals a full rebuild', async () => {
    expect(await martRows('second', 'account_summary', SUMMARY_GRAIN)).toEqual(await martRows('second_full_refresh', 'account_summary', SUMMARY_GRAIN));
  });
});

describe('customers and account_summary on BigQuery', () => {
  it('build through the local endpoint, every statement parsing as BigQuery SQL, equal to the truth', async () => {
    const sim = await startSimulator({ seed: 'customers-bigquery', objects: 3000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    const warehouse = await bigqueryWarehouse();
    try {
      const streams = allStreams();
      await load({ config: resolveConfig(configFor(sim, { start_date: '2024-01-01' }), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() });
      const summary = await transform(warehouse.loader, {});
      const marts = ['account_summary', 'customers'];
      expect(summary.nodes.filter((n) => marts.includes(n.name)).map((n) => [n.name, n.outcome]).sort()).toEqual(marts.map((name) => [name, 'success']));
      const martTests = summary.tests.filter((t) => marts.some((mart) => t.attachedTo === `model.${mart}.v1`));
      expect(martTests.length).toBeGreaterThanOrEqual(10);
      expect(martTests.filter((t) => t.outcome !== 'pass')).toEqual([]);
      const sent = (warehouse.fake?.queries ?? []).filter((sql) => /stripe_marts`?\.`?(customers|account_summary)\b/.test(sql));
      expect(sent.length).toBeGreaterThanOrEqual(2);
      for (const sql of sent) expect(() => parseSql(sql, { dialect: 'bigquery', paramTypes: ['@name'] }), sql.slice(0, 300)).not.toThrow();

      const lines = heldByFirstLoad(await truth(sim));
      const { platform, now } = await control<{ platform: string; now: number }>(sim, 'info');
      const read = async (mart: string, grain: readonly string[]) => sortRows(plainRows((await warehouse.loader.client.query(`SELECT * FROM \`stripe_marts\`.\`${mart}\``)).rows as Record<string, unknown>[]), grain);
      expect(await read('customers', CUSTOMER_GRAIN)).toEqual(customersOf(lines, platform));
      expect(await read('account_summary', SUMMARY_GRAIN)).toEqual(summaryOf(lines, platform, now - 1));
    } finally {
      await warehouse.close();
      await sim.close();
    }
  }, 180_000);
});
