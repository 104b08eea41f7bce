// Incremental builds that equal full ones: a warehouse loaded and built, then loaded again after
// time passes in Stripe (objects created, changed, deleted, an account joining) and built again
// incrementally, holds in every incremental model exactly what a --full-refresh build of the same
// raw tables holds — with our runner, and with real dbt.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { duckdb } from '../../transforms/dialects.js';
import { readProject } from '../../transforms/project.js';
import { runTransforms, TransformRun, type TransformSummary } from '../../transforms/runner.js';
import { offlineWarehouse, type BuildRecord } from '../../transforms/warehouse.js';
import { finishCli, startCli } from '../cli-process.js';
import { configFor } from '../connector/helpers.js';
import { TestDuckDB } from '../runner/duckdb-warehouse.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { assertDbtInstalled, runDbt } from './dbt.js';

let sim: RunningSimulator;
let dir: string;
let config: string;

async function load(warehouse: string): Promise<void> {
  const result = await finishCli(startCli(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]));
  expect(result.code, result.stderr).toBe(0);
}

/** Each warehouse file's build ledger, across the runs on it (a copied file gets a copy). */
const ledgers = new Map<string, BuildRecord[]>();

/** Builds with our runner; returns its summary and the statements it ran. */
async function ourBuild(warehouse: string, fullRefresh = false): Promise<TransformSummary & { statements: readonly string[] }> {
  const ledger = ledgers.get(warehouse) ?? [];
  ledgers.set(warehouse, ledger);
  const db = await TestDuckDB.create(warehouse, ledger);
  try {
    const summary = await runTransforms({ project: readProject('sql'), warehouse: db, ledger: db, dialect: duckdb, target: { type: 'duckdb', schema: 'main', name: 'test' }, fullRefresh });
    return { ...summary, statements: db.statements };
  } finally {
    db.close();
  }
}

async function dbtBuild(warehouse: string, fullRefresh = false): Promise<void> {
  const run = await runDbt('build', fullRefresh ? ['--full-refresh'] : [], { warehouse, workDir: join(dir, `dbt-${Math.random().toString(36).slice(2)}`) });
  expect(run.code, run.output).toBe(0);
}

/** The relations of the project's incremental models, as `schema.table`. */
const INCREMENTAL_RELATIONS = (() => {
  const run = new TransformRun({ project: readProject('sql'), warehouse: offlineWarehouse('duckdb', 'offline'), ledger: offlineWarehouse('duckdb', 'offline'), dialect: duckdb, target: { type: 'duckdb', schema: 'main', name: 'test' } });
  const ids = [...run.graph.nodes.values()].filter((node) => node.config.materialized === 'incremental').map((node) => run.relation(node.id));
  return new Set(ids.map((relation) => `${relation.schema}.${relation.identifier}`));
})();

/** For every incremental model: its rows in `incremental` and in `full`, and what differs. */
async function compareIncremental(incremental: string, full: string): Promise<{ model: string; rows: number; onlyIncremental: number; onlyFull: number }[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run(`ATTACH '${incremental}' AS incremental (READ_ONLY); ATTACH '${full}' AS full_build (READ_ONLY)`);
    const query = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    const tables = await query(`SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'incremental' AND schema_name IN ('stripe_staging', 'stripe_marts') ORDER BY 1, 2`);
    const out = [];
    for (const { schema_name: schema, table_name: table } of tables) {
      if (!INCREMENTAL_RELATIONS.has(`${String(schema)}.${String(table)}`)) continue;
      const a = `incremental.${String(schema)}."${String(table)}"`;
      const b = `full_build.${String(schema)}."${String(table)}"`;
      const [row] = await query(
        `SELECT (SELECT count(*) FROM ${a}) AS n, (SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})) AS only_a, (SELECT count(*) FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a})) AS only_b`,
      );
      out.push({ model: String(table), rows: Number(row?.n), onlyIncremental: Number(row?.only_a), onlyFull: Number(row?.only_b) });
    }
    return out;
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** The incremental models: the ledger and the staging tables (all but the accounts' view). */
const EXPECTED_MODELS = ['balance_transactions', ...STREAM_NAMES.filter((stream) => stream !== 'accounts').map((stream) => `stg_stripe__${stream}_v1`).sort()];

let ours: { first: TransformSummary; second: TransformSummary & { statements: readonly string[] }; comparison: Awaited<ReturnType<typeof compareIncremental>> };
let theirs: Awaited<ReturnType<typeof compareIncremental>>;

async function prepare(): Promise<void> {
  assertDbtInstalled();
  sim = await startSimulator({ seed: 'incremental-models', objects: 2500, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-incremental-'));
  config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(sim)));
  const w = join(dir, 'ours.duckdb');
  const d = join(dir, 'dbt.duckdb');
  await load(w);
  copyFileSync(w, d);
  const first = await ourBuild(w);
  await dbtBuild(d);
  const advanced = await control<{ created: number; updated: number; deleted: number }>(sim, 'advance', { days: 20, new_accounts: 1 });
  expect(advanced.deleted).toBeGreaterThan(0);
  await load(w);
  await load(d);
  const second = await ourBuild(w);
  const wFull = join(dir, 'ours-full.duckdb');
  copyFileSync(w, wFull);
  ledgers.set(wFull, [...(ledgers.get(w) ?? [])]);
  await ourBuild(wFull, true);
  await dbtBuild(d);
  const dFull = join(dir, 'dbt-full.duckdb');
  copyFileSync(d, dFull);
  await dbtBuild(dFull, true);
  ours = { first, second, comparison: await compareIncremental(w, wFull) };
  theirs = await compareIncremental(d, dFull);
}

let ready: Promise<void>;
beforeAll(async () => {
  ready = prepare();
  await ready.catch(() => undefined);
}, 300_000);
beforeEach(() => ready);
afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an incremental build after a second load', () => {
  it('with our runner, merges only what the load wrote, and equals a full refresh in every incremental model', () => {
    expect(ours.first.failures).toBe(0);
    expect(ours.second.failures).toBe(0);
    expect(ours.comparison.map((m) => m.model)).toEqual(EXPECTED_MODELS);
    for (const model of ours.comparison) expect(model, model.model).toEqual({ model: model.model, rows: expect.any(Number), onlyIncremental: 0, onlyFull: 0 });
    expect(ours.comparison.every((m) => m.rows > 0)).toBe(true);
    // The second build merged the rows written since the first, rather than rebuilding.
    const charges = ours.second.statements.filter((sql) => sql.includes('"stripe_staging"."stg_stripe__charges_v1"'));
    expect(charges.some((sql) => sql.startsWith('delete from "stripe_staging"."stg_stripe__charges_v1"'))).toBe(true);
    expect(charges.some((sql) => /^create (or replace )?table "stripe_staging"\."stg_stripe__charges_v1"/.test(sql))).toBe(false);
    expect(charges.some((sql) => sql.includes(`where synced_at >= coalesce((select max(synced_at) from "stripe_staging"."stg_stripe__charges_v1"), cast('1970-01-01' as timestamp))`))).toBe(true);
    // And the ledger rebuilt only the transactions the load touched, its post-hook after.
    const ledger = ours.second.statements.filter((sql) => sql.includes('"stripe_marts"."balance_transactions"'));
    expect(ledger.some((sql) => sql.startsWith('delete from "stripe_marts"."balance_transactions" as t where exists'))).toBe(true);
    expect(ledger.some((sql) => /^create (or replace )?table "stripe_marts"\."balance_transactions"/.test(sql))).toBe(false);
    expect(ledger.some((sql) => sql.trim().startsWith('delete from "stripe_marts"."balance_transactions" as ledger'))).toBe(true);
  });

  it('with dbt, the same', () => {
    expect(theirs.map((m) => m.model)).toEqual(EXPECTED_MODELS);
    for (const model of theirs) expect(model, model.model).toEqual({ model: model.model, rows: expect.any(Number), onlyIncremental: 0, onlyFull: 0 });
  });
});
