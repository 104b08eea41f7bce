// The activity marts (pricing_transactions_monthly, account_transactions_monthly,
// account_activity_daily) equal, row for row and column for column, the figures computed in
// TypeScript from the simulator's truth (test/marts/truth-activity.ts), after the first sync and
// after the second (a connected account disconnected, time passed), and the second equals a full
// rebuild.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const rows = await world.rows(stage, `SELECT * FROM stripe_marts.${mart}`);
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
