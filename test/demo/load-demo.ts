// `make demo`: a simulated Stripe Connect platform (20 connected accounts, over 100,000 objects,
// Stripe's live-mode rate limits), loaded into ./stripe.duckdb by the real `load` command; then a
// week passes in Stripe and `sync` loads only the changes and builds the models of sql/. Ends with
// what the file holds and how to query it, and stops the simulator.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openReader } from '../../connector/loaders/warehouse.js';
import { formatTable } from '../../connector/commands/query.js';
import { startSimulator, TEST_NOW } from '../simulator/index.js';

const WAREHOUSE = resolve('stripe.duckdb');
const CLI = ['--import', 'tsx', join(import.meta.dirname, '../../connector/cli.ts')];

function heading(text: string): void {
  process.stdout.write(`\n=== ${text}\n\n`);
}

/** Runs `stripe-elt load` or `sync` as a user would, its progress and summary on this terminal. */
async function run(command: 'load' | 'sync', config: string): Promise<void> {
  const child = spawn(process.execPath, [...CLI, command, '--config', config, '--warehouse', `duckdb:${WAREHOUSE}`], { stdio: 'inherit' });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  if (code !== 0) throw new Error(`stripe-elt ${command} exited with ${code}`);
}

/** A query's rows as an aligned text table, read through the warehouse client (as `stripe-elt query` does). */
async function show(sql: string): Promise<void> {
  const client = await openReader(`duckdb:${WAREHOUSE}`);
  try {
    process.stdout.write(formatTable(await client.query(sql)).replace(/^/gm, '  ').trimEnd().concat('\n'));
  } finally {
    await client.close();
  }
}

// A file from an earlier demo is kept aside: the simulated world starts over each time.
for (const suffix of ['', '.wal']) {
  if (existsSync(WAREHOUSE + suffix)) renameSync(WAREHOUSE + suffix, `${WAREHOUSE}.previous${suffix}`);
}

process.stdout.write('Starting a simulated Stripe: a Connect platform, 20 connected accounts, 100,000 objects…\n');
const sim = await startSimulator({ seed: 'demo', now: TEST_NOW, objects: 100_000, accounts: 20, modes: ['live'] });
const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-demo-'));
try {
  const config = join(dir, 'config.json');
  // By default a run takes half of Stripe's limit, leaving the rest to the business's own traffic;
  // the simulated account has none, so the demo reads at the full rate, as a night-time backfill would.
  const settings = { api_base: sim.url, start_date: '2024-01-01', max_requests_per_second: 97 };
  writeFileSync(config, JSON.stringify({ api_key: 'rk_live_simulator', ...settings }));
  process.stdout.write(`Simulated Stripe at ${sim.url}, with Stripe's live-mode rate limits (100 requests a second).\n`);
  process.stdout.write(`Config: ${JSON.stringify({ api_key: 'rk_live_… (a restricted key with Read access)', ...settings })}\n`);

  heading(`stripe-elt load --warehouse duckdb:${WAREHOUSE}   (the first load: every object of every account)`);
  await run('load', config);

  const week = (await (await fetch(`${sim.url}/_sim/advance`, { method: 'POST', body: JSON.stringify({ days: 7, new_accounts: 1 }) })).json()) as {
    created: number;
    updated: number;
    deleted: number;
    new_accounts: string[];
  };
  heading(
    `A week passes in Stripe: ${week.created} objects created, ${week.updated} updated, ${week.deleted} deleted, ` +
      `${week.new_accounts.length} account${week.new_accounts.length === 1 ? '' : 's'} newly connected. stripe-elt sync: load only the changes, then build the models`,
  );
  await run('sync', config);

  heading('Transactions per month, as hosted tools price them: stripe_marts.pricing_transactions_monthly (the last 6 months)');
  await show(`SELECT month, platform_transactions, connected_account_transactions, total_transactions,
                     connected_accounts_with_transactions, destination_payment_transactions
              FROM (SELECT * FROM stripe_marts.pricing_transactions_monthly ORDER BY month DESC LIMIT 6) ORDER BY month`);
  heading("The busiest connected accounts' last four weeks, from stripe_marts.account_activity_daily (weeks ending on the data's last day)");
  await show(`WITH last_day AS (SELECT max(day) AS day FROM stripe_marts.account_activity_daily),
              recent AS (
                SELECT activity.*, last_day.day - CAST(7 * ((last_day.day - activity.day) // 7) AS INTEGER) AS week_ending
                FROM stripe_marts.account_activity_daily AS activity, last_day
                WHERE NOT activity.is_platform AND activity.day > last_day.day - 28),
              busiest AS (SELECT account_id FROM recent GROUP BY account_id ORDER BY sum(charges) DESC, account_id LIMIT 3)
              SELECT account_id, currency, week_ending, sum(charges) AS charges, sum(succeeded_charges) AS succeeded,
                     sum(gross_volume) AS gross_volume, sum(refunded_amount) AS refunded, sum(fees) AS fees, sum(new_customers) AS new_customers
              FROM recent JOIN busiest USING (account_id)
              GROUP BY account_id, currency, week_ending ORDER BY account_id, currency, week_ending`);
  heading('Deleted objects kept and marked, per table');
  await show(`SELECT 'customers' AS raw_table, count(*) FILTER (WHERE is_deleted) AS deleted, count(*) AS total_rows FROM stripe_raw.customers
              UNION ALL SELECT 'products', count(*) FILTER (WHERE is_deleted), count(*) FROM stripe_raw.products
              UNION ALL SELECT 'coupons', count(*) FILTER (WHERE is_deleted), count(*) FROM stripe_raw.coupons`);
  process.stdout.write(
    `\nThe data is in ${WAREHOUSE}: one table per stream in the stripe_raw schema (account_id, id, created, is_deleted,\n` +
      'observed_at, synced_at, and the whole object in data), the staging models, typed, in stripe_staging, and the marts in\n' +
      'stripe_marts (README: the model reference). Query it:\n' +
      `  stripe-elt query "SELECT * FROM stripe_marts.account_transactions_monthly ORDER BY month DESC LIMIT 10" --warehouse duckdb:${WAREHOUSE}\n` +
      `(from a checkout: node --import tsx connector/cli.ts query …), or with any DuckDB client: duckdb.connect("${WAREHOUSE}").sql("SELECT * FROM stripe_raw.payouts LIMIT 5")\n`,
  );
} finally {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write('Simulator stopped.\n');
}
