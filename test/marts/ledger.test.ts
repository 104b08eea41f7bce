// The ledger marts (balance_transactions, payout_balance_transactions, payouts,
// account_statements_monthly) equal, row for row and column for column, the figures computed in
// TypeScript from the simulator's truth (truth-ledger.ts), after the first sync and after the
// second (a connected account disconnected, 20 days later), and the second build equals a full
// rebuild; the same SQL built on BigQuery (the local endpoint) from a load of the simulator as it
// is at the end equals the truth of that moment; and so does a small platform whose accounts have
// months without a transaction (the marts' world has none). Which payout swept which funds comes
// from the simulator's answer to Stripe's GET /v1/balance_transactions?payout=po_… (the SQL
// derives it by rule, as the connector does not load that list).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../connector/commands/load.js';
import { transform } from '../../connector/commands/transform.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import type { TransformSummary } from '../../transforms/runner.js';
import { allStreams, configFor } from '../connector/helpers.js';
import { bigqueryWarehouse, duckdbWarehouse, type TestWarehouse } from '../loaders/warehouses.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, stripeFor, truth, type TruthLine } from '../simulator-spec/helpers.js';
import {
  asLastLoaded,
  expectedBalanceTransactions,
  expectedPayoutBalanceTransactions,
  expectedPayouts,
  expectedStatements,
  fetchPayoutLinks,
  type PayoutLinks,
  type Row,
} from './truth-ledger.js';
import { martsWorld, type MartsWorld, type Stage } from './world.js';

let world: MartsWorld;
let links: PayoutLinks;
/** The truth at the end, with the account that left connected again (for BigQuery). */
let now: TruthLine[];

beforeAll(async () => {
  world = await martsWorld();
  // The account that left is asked about its payouts too (the warehouse keeps what it loaded).
  await control(world.sim, 'faults', { reconnect_accounts: [world.disconnected] });
  now = await truth(world.sim);
  // Every payout there has been is in the truth of now: a payout is never deleted.
  links = await fetchPayoutLinks(stripeFor(world.sim), world.platform, now);
}, 300_000);
afterAll(() => world?.close());

/** The truth as the warehouse of a stage holds it. */
function linesAt(stage: 'first' | 'second') {
  return stage === 'first' ? world.truthAt('first') : asLastLoaded(world.truthAt('second'), world.truthAt('first'));
}

/** A value as the oracle writes it: integers as numbers. */
function plain(value: unknown): string | number | boolean | null {
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new Error(`unexpected value ${String(value)}`);
}

function sorted(rows: readonly Row[], keys: readonly string[]): Row[] {
  const id = (r: Row) => keys.map((k) => String(r[k])).join('|');
  return [...rows].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

function comparable(rows: readonly Record<string, unknown>[], keys: readonly string[]): Row[] {
  return sorted(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)]))), keys);
}

async function mart(stage: Stage, relation: string, keys: readonly string[]): Promise<Row[]> {
  return comparable(await world.rows(stage, `SELECT * FROM stripe_marts.${relation}`), keys);
}

/**
 * A mart's rows as Stripe's truth has them: without synced_at, when the loader wrote them (each
 * row must have one).
 */
function stripeFigures(rows: readonly Row[]): Row[] {
  return rows.map(({ synced_at: syncedAt, ...figures }) => {
    if ('synced_at' in rows[0]!) expect(syncedAt).toEqual(expect.any(String));
    return figures;
  });
}

const MARTS = {
  balance_transactions: { keys: ['account_id', 'balance_transaction_id'], expected: expectedBalanceTransactions },
  payout_balance_transactions: { keys: ['account_id', 'payout_id', 'balance_transaction_id'], expected: expectedPayoutBalanceTransactions },
  payouts: { keys: ['account_id', 'payout_id'], expected: expectedPayouts },
  account_statements_monthly: { keys: ['account_id', 'currency', 'month'], expected: (lines, platform) => expectedStatements(lines, platform) },
} satisfies Record<string, { keys: string[]; expected: (lines: ReturnType<typeof linesAt>, platform: string, links: PayoutLinks) => Row[] }>;

describe.each(Object.entries(MARTS))('%s', (relation, { keys, expected }) => {
  it.each(['first', 'second'] as const)('equals the figures computed from the truth after the %s sync', async (stage) => {
    const want = sorted(expected(linesAt(stage), world.platform, links), keys);
    expect(want.length).toBeGreaterThan(0);
    expect(stripeFigures(await mart(stage, relation, keys))).toEqual(want);
  });

  it('after the second sync equals a full rebuild', async () => {
    expect(await mart('second', relation, keys)).toEqual(await mart('second_full_refresh', relation, keys));
  });
});

/** Loads all of a simulator into a warehouse and builds sql/ there. */
async function loadAndBuild(sim: RunningSimulator, warehouse: TestWarehouse): Promise<TransformSummary> {
  const config = resolveConfig(configFor(sim, { start_date: '2024-01-01' }), 'config', {});
  await load({ config, streams: allStreams(), loader: warehouse.loader, logger: silentLogger() });
  return transform(warehouse.loader, {});
}

async function martOf(warehouse: TestWarehouse, relation: string, keys: readonly string[]): Promise<Row[]> {
  const quote = warehouse.fake ? '`' : '"';
  return comparable((await warehouse.loader.client.query(`SELECT * FROM ${quote}stripe_marts${quote}.${quote}${relation}${quote}`)).rows as Record<string, unknown>[], keys);
}

describe('on a small platform with months without a transaction', () => {
  let sim: RunningSimulator;
  let warehouse: TestWarehouse;
  let built: TransformSummary;
  let lines: TruthLine[];
  let platform: string;
  let smallLinks: PayoutLinks;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 'ledger-gaps', objects: 300, accounts: 5, rateLimits: { test: 0, endpoint: 0 } });
    warehouse = await duckdbWarehouse();
    built = await loadAndBuild(sim, warehouse);
    lines = await truth(sim);
    platform = (await control<{ platform: string }>(sim, 'info')).platform;
    smallLinks = await fetchPayoutLinks(stripeFor(sim), platform, lines);
  }, 300_000);
  afterAll(async () => {
    await warehouse?.close();
    await sim?.close();
  });

  it('states the quiet months with zeros, the balance carried from the month before', async () => {
    expect(built.failures).toBe(0);
    const quiet = (await martOf(warehouse, 'account_statements_monthly', MARTS.account_statements_monthly.keys)).filter((r) => r.transactions === 0);
    expect(quiet.map((r) => [r.account_id, r.month])).toEqual(
      expectedStatements(lines, platform).filter((r) => r.transactions === 0).map((r) => [r.account_id, r.month]).sort(),
    );
    expect(quiet).toHaveLength(3);
    for (const r of quiet) expect([r.net, r.payouts, r.ending_balance]).toEqual([0, 0, r.starting_balance]);
  });

  it.each(Object.entries(MARTS))('gives %s equal to the figures computed from the truth', async (relation, { keys, expected }) => {
    const want = sorted(expected(lines, platform, smallLinks), keys);
    expect(want.length).toBeGreaterThan(0);
    expect(stripeFigures(await martOf(warehouse, relation, keys))).toEqual(want);
  });
});

describe('on BigQuery (the local endpoint)', () => {
  let warehouse: TestWarehouse;
  let built: TransformSummary;

  beforeAll(async () => {
    warehouse = await bigqueryWarehouse();
    built = await loadAndBuild(world.sim, warehouse);
  }, 300_000);
  afterAll(() => warehouse?.close());

  it('builds the ledger marts, every data test passing', () => {
    const ledger = built.nodes.filter((n) => Object.keys(MARTS).includes(n.name) || n.name.startsWith('int_ledger__'));
    expect(ledger.map((n) => [n.name, n.outcome]).sort()).toEqual([...Object.keys(MARTS), 'int_ledger__balance_transaction_sources', 'int_ledger__payout_sweeps'].sort().map((name) => [name, 'success']));
    expect(built.tests.filter((t) => t.outcome !== 'pass')).toEqual([]);
  });

  it.each(Object.entries(MARTS))('gives %s equal to the figures computed from the truth', async (relation, { keys, expected }) => {
    const want = sorted(expected(now, world.platform, links), keys);
    expect(want.length).toBeGreaterThan(0);
    expect(stripeFigures(await martOf(warehouse, relation, keys))).toEqual(want);
  });
});
