// The transform benchmark: raw tables of a Connect platform with 10,000,000 balance transactions
// and their charges, refunds and payouts over 20 connected accounts, generated straight into a
// DuckDB warehouse; a full build of sql/ by `stripe-elt transform`, then one more day of data
// (the day's new objects, and the balance transactions of the last days now available) and an
// incremental build. Prints both times, the ratio incremental ÷ full (target ≤ 0.1), the rows
// each build wrote, and each build's peak memory.
//
//   npm run build && node --import tsx bench/transform.ts [--transactions 10000000] [--accounts 20] [--select tag:staging]
//
// BENCH_REPORTS=1 prints both builds' reports (each model's time and rows).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createTableStatement, RAW_TABLE } from '../connector/loaders/duckdb/tables.js';
import { openWarehouse } from '../connector/loaders/warehouse.js';
import { STREAM_NAMES } from '../connector/streams/catalog.js';
import { peakMemory } from './measure.js';

const argv = yargs(hideBin(process.argv))
  .options({
    transactions: { type: 'number', default: 10_000_000 },
    accounts: { type: 'number', default: 20 },
    'memory-limit': { type: 'string', default: '1GB', describe: "DuckDB's memory for the builds" },
    select: { type: 'string', describe: 'build only these models (transform --select), e.g. tag:staging' },
  })
  .strict()
  .parseSync();

const DAY = 86_400;
/** The last day of the generated year, and the one more day of data the second build brings. */
const END = Date.UTC(2026, 10, 1) / 1000;
const START = END - 365 * DAY;
const PLATFORM = 'acct_platform0000000';

/**
 * The mix of one platform's balance transactions: a charge's, a refund's, a payout's. Every
 * transaction has its source object.
 */
const SHARES = { charge: 0.8, refund: 0.1, payout: 0.1 };

/** SQL generating `count` objects of one kind numbered from `first`, created in [from, to). */
function objects(kind: 'charge' | 'refund' | 'payout', first: number, count: number, from: number, to: number, accounts: number): string {
  const n = `(i + ${first})`;
  const account = `CASE WHEN ${n} % ${accounts + 1} = 0 THEN '${PLATFORM}' ELSE 'acct_' || lpad(CAST(${n} % ${accounts + 1} AS VARCHAR), 16, '0') END`;
  const created = `${from} + CAST((i * ${to - from}) / ${Math.max(1, count)} AS BIGINT)`;
  const currency = `(['usd', 'eur', 'gbp', 'jpy'])[1 + ${n} % 4]`;
  const amount = `100 + (${n} * 7919) % 50000`;
  const id = (prefix: string) => `'${prefix}_' || lpad(CAST(${n} AS VARCHAR), 20, '0')`;
  const fields: Record<typeof kind, string> = {
    charge: `'id', ${id('ch')}, 'object', 'charge', 'amount', ${amount}, 'amount_captured', ${amount}, 'amount_refunded', 0, 'currency', ${currency}, 'status', CASE WHEN ${n} % 20 = 0 THEN 'failed' ELSE 'succeeded' END, 'paid', ${n} % 20 <> 0, 'captured', true, 'refunded', false, 'disputed', false, 'customer', 'cus_' || lpad(CAST(${n} % 100000 AS VARCHAR), 14, '0'), 'balance_transaction', ${id('txn_ch')}, 'livemode', false, 'metadata', json_object()`,
    refund: `'id', ${id('re')}, 'object', 'refund', 'amount', ${amount} / 2, 'currency', ${currency}, 'status', 'succeeded', 'charge', ${id('ch')}, 'balance_transaction', ${id('txn_re')}, 'reason', 'requested_by_customer', 'metadata', json_object()`,
    payout: `'id', ${id('po')}, 'object', 'payout', 'amount', ${amount} * 20, 'currency', ${currency}, 'status', 'paid', 'arrival_date', created + 2 * ${DAY}, 'automatic', true, 'method', 'standard', 'type', 'bank_account', 'balance_transaction', ${id('txn_po')}, 'livemode', false, 'metadata', json_object()`,
  };
  return `SELECT ${account} AS account_id, ${id(kind === 'charge' ? 'ch' : kind === 'refund' ? 're' : 'po')} AS id, false AS livemode, to_timestamp(created) AS created, false AS is_deleted,
                 to_timestamp(created) AS observed_at, now() AS synced_at, json_object(${fields[kind]}, 'created', created) AS data
          FROM (SELECT i, ${created} AS created FROM range(${count}) AS r(i))`;
}

/** The balance transaction of each object of `kind`, pending for its first two days. */
function transactions(kind: 'charge' | 'refund' | 'payout', first: number, count: number, from: number, to: number, accounts: number, now: number): string {
  const type = { charge: 'charge', refund: 'refund', payout: 'payout' }[kind];
  const sign = kind === 'charge' ? '' : '-';
  const source = { charge: 'ch', refund: 're', payout: 'po' }[kind];
  return `SELECT account_id, 'txn_' || id AS id, livemode, created, is_deleted, observed_at, synced_at,
                 json_object('id', 'txn_' || id, 'object', 'balance_transaction', 'amount', ${sign}CAST(data->>'amount' AS BIGINT), 'fee', ${kind === 'charge' ? "CAST(data->>'amount' AS BIGINT) * 3 / 100" : '0'},
                             'net', ${sign}CAST(data->>'amount' AS BIGINT) - ${kind === 'charge' ? "CAST(data->>'amount' AS BIGINT) * 3 / 100" : '0'}, 'currency', data->>'currency', 'type', '${type}',
                             'reporting_category', '${type}', 'source', '${source}_' || substr(id, ${source.length + 2}), 'created', epoch(created)::BIGINT,
                             'available_on', epoch(created)::BIGINT + 2 * ${DAY}, 'status', CASE WHEN epoch(created) > ${now - 2 * DAY} THEN 'pending' ELSE 'available' END,
                             'fee_details', json_array(), 'description', null) AS data
          FROM (${objects(kind, first, count, from, to, accounts)})`;
}

interface Build {
  readonly seconds: number;
  readonly peakMb: number;
  readonly report: string;
}

/** Runs the built `stripe-elt transform` on the warehouse, timing it. */
async function transform(path: string, fullRefresh: boolean): Promise<Build> {
  const peak = peakMemory();
  const started = performance.now();
  const child = spawn(process.execPath, [...peak.args, 'dist/connector/cli.js', 'transform', '--warehouse', `duckdb:${path}`, '--duckdb-memory-limit', argv['memory-limit'], ...(fullRefresh ? ['--full-refresh'] : []), ...(argv.select ? ['--select', argv.select] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...peak.env },
  });
  let report = '';
  child.stdout.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`transform failed (${code}):\n${report}`);
  return { seconds, peakMb: peak.read(), report };
}

/** The rows the build wrote, from its report: what the incremental build touched. */
function rowsOf(report: string, model: string): string {
  return new RegExp(`\\n {2}${model} +\\d* +\\w+ +built +([\\d,]+)`).exec(report)?.[1] ?? '?';
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-bench-transform-'));
  const path = join(dir, 'bench.duckdb');
  const warehouse = await openWarehouse(`duckdb:${path}`, { duckdbMemoryLimit: argv['memory-limit'] });
  await warehouse.open();
  await warehouse.migrate();
  const db = warehouse.client;
  const total = argv.transactions;
  const counts = { charge: Math.round(total * SHARES.charge), refund: Math.round(total * SHARES.refund), payout: Math.round(total * SHARES.payout) };
  const generated = performance.now();
  await db.execute('CREATE SCHEMA IF NOT EXISTS stripe_raw');
  for (const stream of STREAM_NAMES) await db.execute(createTableStatement(`stripe_raw."${stream}"`, RAW_TABLE));
  await db.execute(`INSERT INTO stripe_elt.settings VALUES ('mode', 'test'), ('platform', '${PLATFORM}')`);
  await db.execute(
    `INSERT INTO stripe_raw.accounts SELECT '${PLATFORM}', 'acct_' || lpad(CAST(i AS VARCHAR), 16, '0'), false, to_timestamp(${START}), false, to_timestamp(${START}), now(),
       json_object('id', 'acct_' || lpad(CAST(i AS VARCHAR), 16, '0'), 'object', 'account', 'type', 'standard', 'country', 'US', 'charges_enabled', true, 'payouts_enabled', true, 'created', ${START})
     FROM range(1, ${argv.accounts + 1}) AS r(i)`,
  );
  const streamOf = { charge: 'charges', refund: 'refunds', payout: 'payouts' } as const;
  // A million rows a statement: DuckDB streams each, within its memory limit.
  const CHUNK = 1_000_000;
  for (const kind of ['charge', 'refund', 'payout'] as const) {
    for (let first = 0; first < counts[kind]; first += CHUNK) {
      const count = Math.min(CHUNK, counts[kind] - first);
      const from = START + Math.floor((first / counts[kind]) * (END - START));
      const to = START + Math.floor(((first + count) / counts[kind]) * (END - START));
      await db.execute(`INSERT INTO stripe_raw.${streamOf[kind]} ${objects(kind, first, count, from, to, argv.accounts)}`);
      await db.execute(`INSERT INTO stripe_raw.balance_transactions ${transactions(kind, first, count, from, to, argv.accounts, END)}`);
    }
  }
  await db.execute('CHECKPOINT');
  const generationSeconds = (performance.now() - generated) / 1000;
  await warehouse.close();

  const full = await transform(path, true);
  console.log(`full build: ${full.seconds.toFixed(1)} s, peak ${full.peakMb.toLocaleString('en-US')} MB`);

  // One more day: the day's objects, and the last two days' balance transactions now available.
  const reopened = await openWarehouse(`duckdb:${path}`, { duckdbMemoryLimit: argv['memory-limit'] });
  await reopened.open();
  const day = { charge: Math.round(counts.charge / 365), refund: Math.round(counts.refund / 365), payout: Math.round(counts.payout / 365) };
  for (const kind of ['charge', 'refund', 'payout'] as const) {
    await reopened.client.execute(`INSERT INTO stripe_raw.${streamOf[kind]} ${objects(kind, counts[kind], day[kind], END, END + DAY, argv.accounts)}`);
    await reopened.client.execute(`INSERT INTO stripe_raw.balance_transactions ${transactions(kind, counts[kind], day[kind], END, END + DAY, argv.accounts, END + DAY)}`);
  }
  const settled = await reopened.client.execute(
    `UPDATE stripe_raw.balance_transactions SET data = json_merge_patch(data, '{"status": "available"}'), observed_at = to_timestamp(${END + DAY}), synced_at = now()
     WHERE created BETWEEN to_timestamp(${END - 2 * DAY}) AND to_timestamp(${END})`,
  );
  await reopened.client.execute('CHECKPOINT');
  await reopened.close();
  const incremental = await transform(path, false);
  if (process.env.BENCH_KEEP) console.log(`kept ${path}`);
  else rmSync(dir, { recursive: true, force: true });

  const fmt = (n: number) => n.toLocaleString('en-US');
  console.log(`raw: ${fmt(total)} balance transactions, ${fmt(counts.charge)} charges, ${fmt(counts.refund)} refunds, ${fmt(counts.payout)} payouts over ${argv.accounts} connected accounts and the platform (generated in ${generationSeconds.toFixed(1)} s)`);
  console.log(`one more day: ${fmt(day.charge + day.refund + day.payout)} objects and their transactions, ${fmt(settled)} transactions settled`);
  console.log(`full build:        ${full.seconds.toFixed(1)} s, peak ${fmt(full.peakMb)} MB (stg_stripe__balance_transactions: ${rowsOf(full.report, 'stg_stripe__balance_transactions')} rows)`);
  console.log(`incremental build: ${incremental.seconds.toFixed(1)} s, peak ${fmt(incremental.peakMb)} MB (stg_stripe__balance_transactions: ${rowsOf(incremental.report, 'stg_stripe__balance_transactions')} rows)`);
  console.log(`ratio incremental / full: ${(incremental.seconds / full.seconds).toFixed(3)} (target ≤ 0.1)`);
  if (process.env.BENCH_REPORTS) console.log(`\n${full.report}\n${incremental.report}`);
}

await main();
