// The activity marts (pricing_transactions_monthly, account_transactions_monthly,
// account_activity_daily) equal, row for row and column for column, the figures computed in
// TypeScript from the simulator's truth (test/marts/truth-activity.ts), after the first sync and
// after the second (a connected account disconnected, time passed), and the second equals a full
// rebuild; and built on BigQuery (through the local endpoint) they equal the truth as well.
import { parse as parseSql } from 'sql-parser-cst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../connector/commands/load.js';
import { transform } from '../../connector/commands/transform.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { toDuckDB } from '../bigquery-fake/translate.js';
import { allStreams, configFor } from '../connector/helpers.js';
import { bigqueryWarehouse } from '../loaders/warehouses.js';
import { startSimulator } from '../simulator/index.js';
import { control, truth } from '../simulator-spec/helpers.js';
import { accountActivityDaily, accountTransactionsMonthly, linesHeld, pricingTransactionsMonthly } from './truth-activity.js';
import { martsWorld, type MartsWorld } from './world.js';

let world: MartsWorld;
beforeAll(async () => {
  world = await martsWorld();
}, 300_000);
afterAll(() => world?.close());

/** The truth lines whose objects the warehouse of a stage holds (a disconnected account's as last read). */
function held(stage: 'first' | 'second') {
  return linesHeld(world.truthAt(stage), stage === 'second' ? world.truthAt('first') : null);
}

/** A mart's rows, whole numbers as numbers, sorted by `key`. */
async function martRows(stage: 'first' | 'second' | 'second_full_refresh', mart: string, key: readonly string[]): Promise<Record<string, unknown>[]> {
  return numbered(await world.rows(stage, `SELECT * FROM stripe_marts.${mart}`), key);
}

function numbered(rows: readonly Record<string, unknown>[], key: readonly string[]): Record<string, unknown>[] {
  return sortBy(
    rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))),
    key,
  );
}

function sortBy<T extends object>(rows: readonly T[], key: readonly string[]): T[] {
  const of = (row: T) => key.map((k) => String((row as Record<string, unknown>)[k])).join('|');
  return [...rows].sort((a, b) => (of(a) < of(b) ? -1 : of(a) > of(b) ? 1 : 0));
}

const PRICING_KEY = ['month'];
const ACCOUNT_MONTH_KEY = ['account_id', 'month'];
const DAILY_KEY = ['account_id', 'currency', 'day'];

describe('pricing_transactions_monthly', () => {
  for (const stage of ['first', 'second'] as const) {
    it(`counts each month's balance transactions on the platform and the connected accounts, and the destination payments, as the truth does (${stage})`, async () => {
      const expected = pricingTransactionsMonthly(held(stage), world.platform);
      expect(await martRows(stage, 'pricing_transactions_monthly', PRICING_KEY)).toEqual(sortBy(expected, PRICING_KEY));
      // The world has what the figures must get right: destination payments, and several connected accounts.
      expect(expected.reduce((sum, m) => sum + m.destination_payment_transactions, 0)).toBeGreaterThan(5);
      expect(Math.max(...expected.map((m) => m.connected_accounts_with_transactions))).toBe(5);
    });
  }

  it('after the second sync equals a full rebuild', async () => {
    expect(await martRows('second', 'pricing_transactions_monthly', PRICING_KEY)).toEqual(await martRows('second_full_refresh', 'pricing_transactions_monthly', PRICING_KEY));
  });
});

describe('account_transactions_monthly', () => {
  for (const stage of ['first', 'second'] as const) {
    it(`counts each account's balance transactions of each month by reporting category, as the truth does (${stage})`, async () => {
      const expected = accountTransactionsMonthly(held(stage), world.platform);
      expect(await martRows(stage, 'account_transactions_monthly', ACCOUNT_MONTH_KEY)).toEqual(sortBy(expected, ACCOUNT_MONTH_KEY));
      // Every column is exercised, and the disconnected account keeps its months.
      for (const column of ['charge', 'refund', 'dispute', 'payout', 'transfer', 'platform_earning', 'other']) {
        expect(expected.some((row) => (row as Record<string, unknown>)[`${column}_transactions`] !== 0), column).toBe(true);
      }
      expect(expected.some((row) => row.account_id === world.disconnected)).toBe(true);
    });
  }

  it('after the second sync equals a full rebuild', async () => {
    expect(await martRows('second', 'account_transactions_monthly', ACCOUNT_MONTH_KEY)).toEqual(await martRows('second_full_refresh', 'account_transactions_monthly', ACCOUNT_MONTH_KEY));
  });
});

describe('account_activity_daily', () => {
  for (const stage of ['first', 'second'] as const) {
    it(`has every day of each account and currency, its charges, volume, refunds, disputes, fees, net, payouts, application fees and new customers as the truth has them (${stage})`, async () => {
      const expected = accountActivityDaily(held(stage), world.platform);
      expect(await martRows(stage, 'account_activity_daily', DAILY_KEY)).toEqual(sortBy(expected, DAILY_KEY));
      // Gaps are filled, several currencies (JPY among them) appear, and the platform's application fees are there.
      expect(expected.some((row) => row.charges === 0 && row.balance_transactions === 0 && row.new_customers === 0)).toBe(true);
      expect(new Set(expected.map((row) => row.currency))).toEqual(new Set(['eur', 'gbp', 'jpy', 'usd']));
      expect(expected.filter((row) => row.application_fees > 0).every((row) => row.is_platform)).toBe(true);
      expect(expected.some((row) => row.application_fees > 0)).toBe(true);
    });
  }

  it('after the second sync equals a full rebuild', async () => {
    expect(await martRows('second', 'account_activity_daily', DAILY_KEY)).toEqual(await martRows('second_full_refresh', 'account_activity_daily', DAILY_KEY));
  });
});

describe('the activity marts on BigQuery', () => {
  it('build through the local endpoint, every statement parsing as BigQuery SQL, equal to the truth', async () => {
    const sim = await startSimulator({ seed: 'activity-bigquery', objects: 3000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    const warehouse = await bigqueryWarehouse();
    try {
      const streams = allStreams();
      await load({ config: resolveConfig(configFor(sim, { start_date: '2024-01-01' }), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() });
      const summary = await transform(warehouse.loader, {});
      const activity = ['int_activity__account_daily', 'account_activity_daily', 'int_activity__balance_transactions_classified', 'account_transactions_monthly', 'pricing_transactions_monthly'];
      expect(summary.nodes.filter((n) => activity.includes(n.name)).map((n) => [n.name, n.outcome])).toEqual(activity.map((name) => [name, 'success']));
      expect(summary.tests.filter((t) => t.outcome !== 'pass')).toEqual([]);
      const sent = (warehouse.fake?.queries ?? []).filter((sql) => /stripe_(intermediate|marts)/.test(sql));
      expect(sent.length).toBeGreaterThan(5);
      for (const sql of sent) expect(() => parseSql(sql, { dialect: 'bigquery', paramTypes: ['@name'] }), sql.slice(0, 300)).not.toThrow();

      const lines = linesHeld(await truth(sim), null);
      const { platform } = await control<{ platform: string }>(sim, 'info');
      const read = async (mart: string, key: readonly string[]) => numbered((await warehouse.loader.client.query(`SELECT * FROM \`stripe_marts\`.\`${mart}\``)).rows as Record<string, unknown>[], key);
      expect(await read('pricing_transactions_monthly', PRICING_KEY)).toEqual(sortBy(pricingTransactionsMonthly(lines, platform), PRICING_KEY));
      expect(await read('account_transactions_monthly', ACCOUNT_MONTH_KEY)).toEqual(sortBy(accountTransactionsMonthly(lines, platform), ACCOUNT_MONTH_KEY));
      expect(await read('account_activity_daily', DAILY_KEY)).toEqual(sortBy(accountActivityDaily(lines, platform), DAILY_KEY));
    } finally {
      await warehouse.close();
      await sim.close();
    }
  }, 180_000);

  it("the local endpoint plays BigQuery's UTC dates, months, date arrays and unnested columns", () => {
    expect(toDuckDB('SELECT date(created_at) FROM t')).toBe("SELECT CAST(timezone('UTC', created_at) AS DATE) FROM t");
    expect(toDuckDB('SELECT date_trunc(date(created_at), month) FROM t')).toBe("SELECT CAST(date_trunc('month', CAST(timezone('UTC', created_at) AS DATE)) AS DATE) FROM t");
    expect(toDuckDB('SELECT day FROM s CROSS JOIN unnest(generate_date_array(s.a, s.b, interval 1 day)) as day')).toBe(
      'SELECT day FROM s CROSS JOIN unnest(CAST(generate_series(s.a, s.b, interval 1 day) AS DATE[])) as day(day)',
    );
    expect(toDuckDB('SELECT * FROM unnest([1]) AS x(y)')).toBe('SELECT * FROM unnest([1]) AS x(y)');
  });
});
