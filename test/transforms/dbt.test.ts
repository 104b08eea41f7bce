// The dbt project in sql/ under real dbt (the venv's dbt-core and dbt-duckdb): `dbt build` on a
// warehouse that `stripe-elt load` filled from the simulator builds every seed and model, every
// data test passes, and each staging relation holds exactly the raw table's rows.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { finishCli, startCli } from '../cli-process.js';
import { configFor } from '../connector/helpers.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { duckdb } from '../../transforms/dialects.js';
import { readProject } from '../../transforms/project.js';
import { runTransforms, type TransformSummary } from '../../transforms/runner.js';
import { TestDuckDB } from '../runner/duckdb-warehouse.js';
import { assertDbtInstalled, freshnessResults, manifestIds, projectModels, runDbt, runResults, type DbtRun } from './dbt.js';

/** The staging relation of a stream, as dbt names a model's version 1. */
const staging = (stream: string) => `stripe_staging.stg_stripe__${stream}_v1`;

let sim: RunningSimulator;
let dir: string;
let warehouse: string;
let build: DbtRun;
let ours: string;
let runner: TransformSummary;
let freshness: DbtRun;
let instance: DuckDBInstance;
/** The warehouse attached under another name than its file's, as stripe-elt attaches it. */
let db: DuckDBConnection;

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

async function load(config: string): Promise<void> {
  const result = await finishCli(startCli(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]));
  expect(result.code, result.stderr).toBe(0);
}

async function prepare(): Promise<void> {
  assertDbtInstalled();
  sim = await startSimulator({ seed: 'dbt', objects: 2000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-dbt-'));
  warehouse = join(dir, 'stripe.duckdb');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(sim)));
  await load(config);
  // Time passes in Stripe: objects change, some are deleted, an account joins; loaded again.
  await control(sim, 'advance', { days: 25, new_accounts: 1 });
  await load(config);
  // The same warehouse, built by our runner.
  ours = join(dir, 'ours.duckdb');
  copyFileSync(warehouse, ours);
  const runnerDb = await TestDuckDB.create(ours);
  try {
    runner = await runTransforms({ project: readProject('sql'), warehouse: runnerDb, ledger: runnerDb, dialect: duckdb, target: { type: 'duckdb', schema: 'main', name: 'test' } });
  } finally {
    runnerDb.close();
  }
  build = await runDbt('build', [], { warehouse, workDir: dir });
  freshness = await runDbt('source', ['freshness'], { warehouse, workDir: join(dir, 'freshness') });
  // dbt is done with the file (DuckDB lets one process write it): the test reads it now.
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  await db.run(`ATTACH '${warehouse}' AS warehouse (READ_ONLY); ATTACH '${ours}' AS ours (READ_ONLY); USE warehouse`);
}

let ready: Promise<void>;
beforeAll(async () => {
  ready = prepare();
  await ready.catch(() => undefined);
}, 300_000);
// A setup that failed (no dbt in .venv, a load that failed) fails every test with its error: none is skipped.
beforeEach(() => ready);

afterAll(async () => {
  db?.closeSync();
  instance?.closeSync();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dbt build of sql/', () => {
  it('builds the seed and every model of the project, and runs every data test of the project, all passing', () => {
    expect(build.code, build.output).toBe(0);
    const results = runResults(dir);
    const statuses = (prefix: string) => Object.fromEntries(results.filter((r) => r.unique_id.startsWith(prefix)).map((r) => [r.unique_id, r.status]));
    expect(projectModels()).toEqual(expect.arrayContaining(STREAM_NAMES.map((s) => `model.stripe_elt.stg_stripe__${s}.v1`)));
    expect(statuses('model.')).toEqual(Object.fromEntries(projectModels().map((id) => [id, 'success'])));
    expect(statuses('seed.')).toEqual({ 'seed.stripe_elt.currencies': 'success' });
    // Every data test of the manifest ran and passed: a warning counts as a failure here.
    const tests = manifestIds(dir, 'test');
    expect(Object.keys(statuses('test.')).sort()).toEqual(tests);
    expect(Object.entries(statuses('test.')).filter(([, status]) => status !== 'pass')).toEqual([]);
    // The grain of every staging model is tested, and the singular tests are among them.
    for (const stream of STREAM_NAMES) expect(tests.some((id) => id.startsWith(`test.stripe_elt.unique_combination_stg_stripe__${stream}_v1_account_id__id.`))).toBe(true);
    for (const singular of ['staging_rows_match_raw', 'one_platform', 'to_major_units_uses_the_exponent', 'currencies_are_known']) {
      expect(tests).toContain(`test.stripe_elt.${singular}`);
    }
    expect(tests.filter((id) => id.startsWith('test.stripe_elt.accepted_values_')).length).toBeGreaterThan(40);
  });

  it('gives every staging relation exactly the rows of its raw table, deleted objects included, read under another catalog name than the file', async () => {
    let deleted = 0;
    for (const stream of STREAM_NAMES) {
      const key = `account_id || '/' || id AS key`;
      const raw = await rows(`SELECT ${key}, is_deleted FROM stripe_raw.${stream} ORDER BY key`);
      const staged = await rows(`SELECT ${key}, is_deleted FROM ${staging(stream)} ORDER BY key`);
      expect(raw.length, stream).toBeGreaterThan(0);
      expect(staged, stream).toEqual(raw);
      deleted += raw.filter((r) => r.is_deleted).length;
    }
    expect(deleted).toBeGreaterThan(0);
  });

  it("writes views that name no catalog, so that a client opening the file under any name reads them", async () => {
    // Staging models are incremental tables, but for the few connected accounts, a view.
    const tables = await rows(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse' AND schema_name = 'stripe_staging' ORDER BY table_name`);
    expect(tables.map((t) => t.table_name)).toEqual(['currencies', ...STREAM_NAMES.filter((s) => s !== 'accounts').map((s) => `stg_stripe__${s}_v1`)].sort());
    const views = await rows(`SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'warehouse' AND schema_name = 'stripe_staging' ORDER BY view_name`);
    expect(views.map((v) => v.view_name)).toEqual(['stg_stripe__accounts_v1']);
    for (const view of views) expect(String(view.sql)).not.toMatch(/\bstripe\.|"stripe"\./);
    // So are the intermediate models.
    const intermediate = await rows(`SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'warehouse' AND schema_name = 'stripe_intermediate'`);
    expect(intermediate.length).toBe(projectModels().filter((id) => id.includes('.int_')).length);
    for (const view of intermediate) expect(String(view.sql), String(view.view_name)).not.toMatch(/\bwarehouse\.|"warehouse"\./);
  });

  it("marks the rows of the platform's own data is_platform, and only those", async () => {
    const platform = (await control<{ platform: string }>(sim, 'info')).platform;
    for (const stream of STREAM_NAMES) {
      const [counts] = await rows(
        `SELECT count(*) FILTER (WHERE is_platform) AS platform_rows, count(*) FILTER (WHERE is_platform IS DISTINCT FROM (account_id = '${platform}')) AS wrong FROM ${staging(stream)}`,
      );
      expect(counts, stream).toEqual({ platform_rows: expect.any(String), wrong: '0' });
      expect(Number(counts?.platform_rows), stream).toBeGreaterThan(0);
    }
  });

  it('casts: ids and enums as text, amounts as integers in minor units, times as UTC timestamps, flags as booleans, nested values as JSON', async () => {
    const types = Object.fromEntries((await rows(`DESCRIBE ${staging('charges')}`)).map((c) => [c.column_name, c.column_type]));
    expect(types).toMatchObject({
      account_id: 'VARCHAR', is_platform: 'BOOLEAN', id: 'VARCHAR', livemode: 'BOOLEAN', created_at: 'TIMESTAMP WITH TIME ZONE', is_deleted: 'BOOLEAN',
      observed_at: 'TIMESTAMP WITH TIME ZONE', synced_at: 'TIMESTAMP WITH TIME ZONE', customer_id: 'VARCHAR', status: 'VARCHAR', currency: 'VARCHAR',
      amount: 'BIGINT', amount_refunded: 'BIGINT', is_paid: 'BOOLEAN', metadata: 'JSON', payment_method_details: 'JSON',
    });
    // The values are Stripe's, field by field.
    const [charge] = await rows(`SELECT id, amount, currency, status, is_paid, epoch(created_at) AS created FROM ${staging('charges')} WHERE NOT is_deleted ORDER BY id LIMIT 1`);
    const [raw] = await rows(`SELECT data FROM stripe_raw.charges WHERE id = '${String(charge?.id)}'`);
    const object = JSON.parse(String(raw?.data)) as { amount: number; currency: string; status: string; paid: boolean; created: number };
    expect(charge).toEqual({ id: charge?.id, amount: String(object.amount), currency: object.currency, status: object.status, is_paid: object.paid, created: object.created });
  });

  it("finds every raw table fresh by the source's freshness on synced_at", () => {
    expect(freshness.code, freshness.output).toBe(0);
    expect(Object.fromEntries(freshnessResults(join(dir, 'freshness')).map((r) => [r.unique_id, r.status]))).toEqual(
      Object.fromEntries(STREAM_NAMES.map((s) => [`source.stripe_elt.stripe.${s}`, 'pass'])),
    );
  });
});

describe('our runner and dbt', () => {
  it('build the same relations holding exactly the same rows', async () => {
    expect(runner.failures).toBe(0);
    const relations = await rows(`SELECT schema_name, table_name FROM (SELECT schema_name, view_name AS table_name FROM duckdb_views() WHERE database_name = 'warehouse' AND NOT internal UNION ALL SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'warehouse') WHERE schema_name NOT IN ('stripe_raw', 'stripe_elt', 'main') ORDER BY 1, 2`);
    const theirs = await rows(`SELECT schema_name, table_name FROM (SELECT schema_name, view_name AS table_name FROM duckdb_views() WHERE database_name = 'ours' AND NOT internal UNION ALL SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'ours') WHERE schema_name NOT IN ('stripe_raw', 'stripe_elt', 'main') ORDER BY 1, 2`);
    expect(theirs).toEqual(relations);
    // Every model is a relation, and so is the seed.
    expect(relations.length).toBe(projectModels().length + 1);
    for (const { schema_name: schema, table_name: table } of relations) {
      const name = `"${String(schema)}"."${String(table)}"`;
      const [counts] = await rows(
        `SELECT (SELECT count(*) FROM warehouse.${name}) AS dbt_rows, (SELECT count(*) FROM ours.${name}) AS our_rows,
                (SELECT count(*) FROM (SELECT * FROM warehouse.${name} EXCEPT ALL SELECT * FROM ours.${name})) AS only_dbt,
                (SELECT count(*) FROM (SELECT * FROM ours.${name} EXCEPT ALL SELECT * FROM warehouse.${name})) AS only_ours`,
      );
      expect(counts, name).toEqual({ dbt_rows: counts?.our_rows, our_rows: counts?.dbt_rows, only_dbt: '0', only_ours: '0' });
      expect(Number(counts?.dbt_rows), name).toBeGreaterThan(0);
    }
  });

  it('run the same data tests, all passing', () => {
    const dbtTests = manifestIds(dir, 'test').map((id) => id.split('.')[2] as string).sort();
    expect(runner.tests.map((t) => t.name).sort()).toEqual(dbtTests);
    expect(runner.tests.filter((t) => t.outcome !== 'pass')).toEqual([]);
  });
});
