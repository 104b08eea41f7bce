// `stripe-elt sync` and `stripe-elt transform` as processes: a sync loads and builds the staging
// layer, a transform reports each model and exits non-zero when one fails, waits for a load that
// holds the warehouse, and refuses what it cannot build before doing anything.
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { finishCli, startCli } from '../cli-process.js';
import { configFor } from '../connector/helpers.js';
import { projectModels } from './dbt.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';

let sim: RunningSimulator;
let dir: string;
let config: string;
const run = (args: readonly string[]) => finishCli(startCli(args));

async function queryJson(warehouse: string, sql: string): Promise<Record<string, unknown>[]> {
  const result = await run(['query', sql, '--warehouse', `duckdb:${warehouse}`, '--format', 'json']);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'transform-cli', objects: 1500, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-transform-cli-'));
  config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(sim)));
});
afterAll(() => sim.close());

describe('sync', () => {
  it('loads, then builds every model with its data tests, in one process', async () => {
    const warehouse = join(dir, 'sync.duckdb');
    const result = await run(['sync', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Loaded [\d,]+ records into duckdb:/);
    const models = projectModels().length;
    expect(result.stdout).toMatch(new RegExp(`\\nTransform done: ${models} models, 1 seed and \\d+ data tests in [\\d.]+ s; ${models + 1} built; tests: \\d+ passed\\.\\n`));
    for (const stream of STREAM_NAMES) expect(result.stdout).toMatch(new RegExp(`\\n {2}stg_stripe__${stream} +1 +(incremental|view) +built`));
    // Each staging relation holds its raw table's rows, as an analyst reads it.
    for (const stream of ['charges', 'customers', 'balance_transactions']) {
      const [counts] = await queryJson(warehouse, `SELECT (SELECT count(*) FROM stripe_raw.${stream}) AS raw, (SELECT count(*) FROM stripe_staging.stg_stripe__${stream}_v1) AS staged`);
      expect(counts?.staged, stream).toBe(counts?.raw);
    }
    const builds = await queryJson(warehouse, "SELECT count(*) AS n FROM stripe_elt.model_builds WHERE outcome = 'success'");
    expect(builds).toEqual([{ n: projectModels().length + 1 }]);
  });
});

describe('transform', () => {
  it('reports a model the database cannot build, skips what depends on it, and exits 1', async () => {
    const warehouse = join(dir, 'broken.duckdb');
    expect((await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`])).code).toBe(0);
    const project = join(dir, 'project');
    cpSync('sql', project, { recursive: true });
    writeFileSync(join(project, 'models/staging/stg_stripe__charges_v1.sql'), "select no_such_column from {{ source('stripe', 'charges') }}");
    const result = await run(['transform', '--warehouse', `duckdb:${warehouse}`, '--project-dir', project]);
    expect(result.code).toBe(1);
    const summary = /^Transform failed: (\d+) models, 1 seed and \d+ data tests in [\d.]+ s; (\d+) built, 1 failed, (\d+) skipped; tests: \d+ passed, \d+ skipped\./.exec(result.stdout);
    expect(summary, result.stdout).not.toBeNull();
    const [models, built, skipped] = (summary as RegExpExecArray).slice(1).map(Number) as [number, number, number];
    expect(models).toBe(projectModels().length);
    // What reads the charges (the marts of payments, customers, the ledger) is skipped, the rest built.
    expect(skipped).toBeGreaterThan(0);
    expect(built + 1 + skipped).toBe(models + 1);
    expect(result.stdout).toMatch(/\n {2}customers +1 +table +skipped/);
    expect(result.stdout).toMatch(/\n {2}stg_stripe__refunds +1 +incremental +built/);
    expect(result.stdout).toMatch(/\nFailed:\n {2}stg_stripe__charges v1: Binder Error: Referenced column "no_such_column" not found/);
  });

  it('refuses, before anything, a warehouse that holds nothing, a selection that matches nothing, and vars that are no mapping', async () => {
    const missing = join(dir, 'nothing-here.duckdb');
    const none = await run(['transform', '--warehouse', `duckdb:${missing}`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`There is no stripe-elt warehouse at duckdb:${missing}: nothing to transform. Load it first (stripe-elt load, or stripe-elt sync).`);
    expect(existsSync(missing)).toBe(false);
    const warehouse = join(dir, 'sync.duckdb');
    const nothing = await run(['transform', '--warehouse', `duckdb:${warehouse}`, '--select', 'stg_stripe__widgets']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('--select stg_stripe__widgets matches nothing in the project.');
    const vars = await run(['transform', '--warehouse', `duckdb:${warehouse}`, '--vars', '[1, 2]']);
    expect(vars.code).toBe(1);
    expect(vars.stderr).toContain("--vars [1, 2]: give a mapping of names to values, such as --vars '{schema_prefix: dev_}'.");
  });

  it('waits for a load that holds the warehouse, saying so, and builds once it is done; gives up after --wait', async () => {
    const warehouse = join(dir, 'held.duckdb');
    expect((await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`])).code).toBe(0);
    // A second load holds the file while its first request is held by Stripe.
    await control(sim, 'hold', { endpoint: 'GET /v1/account', count: 1 });
    const load = startCli(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    const loadDone = finishCli(load);
    while ((await control<{ held: unknown[] }>(sim, 'held')).held.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const gaveUp = await run(['transform', '--warehouse', `duckdb:${warehouse}`, '--wait', '1']);
    expect(gaveUp.code).toBe(1);
    expect(gaveUp.stderr).toContain(`Another stripe-elt load is running on ${warehouse} (process ${load.pid})`);
    expect(gaveUp.stderr).toContain('Waiting for it, up to 1 second (--wait).');
    const waiting = startCli(['transform', '--warehouse', `duckdb:${warehouse}`, '--wait', '300']);
    let said = '';
    waiting.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString()));
    const waited = finishCli(waiting);
    while (!said.includes('Waiting for it')) await new Promise((resolve) => setTimeout(resolve, 20));
    await control(sim, 'release', {});
    expect((await loadDone).code).toBe(0);
    const built = await waited;
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(new RegExp(`^Transform done: ${projectModels().length} models`));
  });
});
