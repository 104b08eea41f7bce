// The model runner on a small dbt project of its own (test/runner/fixtures/shop), on DuckDB:
// materializations, refs and sources, versions, seeds, data tests, selection, incremental builds.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdb } from '../../transforms/dialects.js';
import { readProject } from '../../transforms/project.js';
import { transformReport } from '../../transforms/report.js';
import { runTransforms, type TransformOptions, type TransformSummary } from '../../transforms/runner.js';
import { TestDuckDB } from './duckdb-warehouse.js';

const FIXTURE = new URL('./fixtures/shop', import.meta.url).pathname;
let db: TestDuckDB;
let root: string;

async function seedRaw(): Promise<void> {
  await db.execute('create schema raw');
  await db.execute('create table raw.customers (id integer, name varchar, country varchar)');
  await db.execute("insert into raw.customers values (1, 'Ana', 'DE'), (2, 'Liam', 'FR'), (3, 'Yuki', 'GB')");
  await db.execute('create table raw.orders (id integer, customer_id integer, amount double, status varchar, updated_at integer)');
  await db.execute("insert into raw.orders values (10, 1, 12.5, 'placed', 1), (11, 1, 1500, 'shipped', 2), (12, 2, 3.1, 'returned', 3), (13, 3, 7, 'placed', 4)");
}

function build(extra: Partial<TransformOptions> = {}): Promise<TransformSummary> {
  return runTransforms({ project: readProject(root), warehouse: db, ledger: db, dialect: duckdb, target: { type: 'duckdb', schema: 'main', name: 'test' }, ...extra });
}

const outcomes = (summary: TransformSummary) => Object.fromEntries(summary.nodes.map((n) => [n.id, n.outcome]));

beforeEach(async () => {
  root = join(mkdtempSync(join(tmpdir(), 'stripe-elt-runner-')), 'shop');
  cpSync(FIXTURE, root, { recursive: true });
  db = await TestDuckDB.create();
  await seedRaw();
});
afterEach(() => db.close());

describe('a full build', () => {
  it('builds seeds, views, tables and versions in dependency order; ephemeral models become CTEs', async () => {
    const summary = await build();
    expect(outcomes(summary)).toEqual({
      'seed.countries': 'success',
      'model.stg_customers': 'success',
      'model.stg_orders': 'success',
      'model.int_orders_with_customers': 'success',
      'model.customer_totals.v1': 'success',
      'model.customer_totals.v2': 'success',
      'model.orders_latest': 'success',
    });
    const order = summary.nodes.map((n) => n.id);
    expect(order.indexOf('model.stg_orders')).toBeLessThan(order.indexOf('model.customer_totals.v2'));
    const kinds = await db.query("select table_schema, table_name, table_type from information_schema.tables where table_schema <> 'raw' order by 1, 2");
    expect(kinds).toEqual([
      { table_schema: 'marts', table_name: 'customer_totals', table_type: 'BASE TABLE' },
      { table_schema: 'marts', table_name: 'customer_totals_v1', table_type: 'BASE TABLE' },
      { table_schema: 'marts', table_name: 'orders_latest', table_type: 'BASE TABLE' },
      { table_schema: 'reference', table_name: 'countries', table_type: 'BASE TABLE' },
      { table_schema: 'staging', table_name: 'stg_customers', table_type: 'VIEW' },
      { table_schema: 'staging', table_name: 'stg_orders', table_type: 'VIEW' },
    ]);
    expect(await db.query('select customer_id, customer_name, total_cents, orders, big_orders from marts.customer_totals order by 1')).toEqual([
      { customer_id: 1, customer_name: 'Ana', total_cents: '151250', orders: '2', big_orders: '1' },
      { customer_id: 2, customer_name: 'Liam', total_cents: '310', orders: '1', big_orders: '0' },
      { customer_id: 3, customer_name: 'Yuki', total_cents: '700', orders: '1', big_orders: '0' },
    ]);
    expect(await db.query('select * from reference.countries order by code')).toEqual([
      { code: 'DE', name: 'Germany', eu: true, joined: '1958-01-01' },
      { code: 'FR', name: 'France', eu: true, joined: '1958-01-01' },
      { code: 'GB', name: 'United Kingdom, The', eu: false, joined: null },
    ]);
    // The ephemeral model has no relation: its SQL went into its children's as a CTE.
    expect(db.statements.some((s) => s.includes('__dbt__cte__int_orders_with_customers as ('))).toBe(true);
    expect(summary.nodes.find((n) => n.id === 'model.orders_latest')?.rows).toBe(4);
  });

  it('runs each data test after its node: unique, not_null, accepted_values, relationships, a project test with where, a singular test', async () => {
    const summary = await build();
    const tests = Object.fromEntries(summary.tests.map((t) => [t.name, [t.outcome, t.failures]]));
    expect(tests).toEqual({
      unique_stg_customers_id: ['pass', 0],
      not_null_stg_customers_id: ['pass', 0],
      unique_stg_orders_id: ['pass', 0],
      not_null_stg_orders_id: ['pass', 0],
      accepted_values_stg_orders_status__placed__shipped__returned: ['pass', 0],
      relationships_stg_orders_customer_id__id__ref_stg_customers_: ['pass', 0],
      positive_stg_orders_amount_cents: ['pass', 0],
      not_null_customer_totals_v1_total_cents: ['pass', 0],
      not_null_customer_totals_v2_total_cents: ['pass', 0],
      unique_orders_latest_id: ['pass', 0],
      assert_totals_are_whole: ['pass', 0],
    });
    expect(summary.failures).toBe(0);
  });
});

describe('failures', () => {
  it('a failing test names the test and shows up to five offending rows; at error severity it skips the children, a warning does not', async () => {
    await db.execute("insert into raw.orders values (14, 1, -2, 'placed', 5), (15, 9, 1, 'lost', 6)");
    const summary = await build();
    const byName = new Map(summary.tests.map((t) => [t.name, t]));
    expect(byName.get('positive_stg_orders_amount_cents')).toMatchObject({ outcome: 'warn', failures: 1, sample: [{ id: 14, amount_cents: '-200' }] });
    expect(byName.get('accepted_values_stg_orders_status__placed__shipped__returned')).toMatchObject({ outcome: 'fail', failures: 1, sample: [{ value_field: 'lost', n_records: '1' }] });
    expect(byName.get('relationships_stg_orders_customer_id__id__ref_stg_customers_')).toMatchObject({ outcome: 'fail', failures: 1, sample: [{ from_field: 9 }] });
    const outcome = outcomes(summary);
    expect(outcome['model.int_orders_with_customers']).toBe('skipped');
    expect(outcome['model.customer_totals.v2']).toBe('skipped');
    expect(outcome['model.orders_latest']).toBe('skipped');
    expect(outcome['model.stg_customers']).toBe('success');
    expect(summary.nodes.find((n) => n.id === 'model.customer_totals.v2')?.message).toBe('skipped: model.int_orders_with_customers was skipped');
    expect(summary.failures).toBe(2);
    expect(summary.warnings).toBe(1);
  });

  it("reports a model the database refuses with the database's error, and goes on with the others", async () => {
    writeFileSync(join(root, 'models/staging/stg_customers.sql'), 'select id, name, no_such_column from {{ source("raw", "customers") }}');
    const summary = await build();
    const failed = summary.nodes.find((n) => n.id === 'model.stg_customers');
    expect(failed?.outcome).toBe('error');
    expect(failed?.message).toMatch(/no_such_column/);
    expect(outcomes(summary)['model.stg_orders']).toBe('success');
    expect(outcomes(summary)['seed.countries']).toBe('success');
    expect(outcomes(summary)['model.customer_totals.v2']).toBe('skipped');
  });

  it('refuses a ref to an unknown model and a cycle, naming them', async () => {
    writeFileSync(join(root, 'models/marts/broken.sql'), "select * from {{ ref('stg_ordres') }}");
    await expect(build()).rejects.toThrow(/model broken refers to stg_ordres, which is no model or seed of the project/);
    writeFileSync(join(root, 'models/marts/broken.sql'), "select * from {{ ref('loop_b') }}");
    writeFileSync(join(root, 'models/marts/loop_b.sql'), "select * from {{ ref('broken') }}");
    await expect(build()).rejects.toThrow('The models refer to each other in a cycle: model.broken → model.loop_b → model.broken.');
  });
});

describe('selection', () => {
  const selected = async (select: string[], exclude: string[] = []) => (await build({ select, exclude })).nodes.map((n) => n.id).sort();

  it('takes names, +ancestors, descendants+, tags, paths, versions, unions, intersections and exclusions as dbt does', async () => {
    expect(await selected(['stg_orders'])).toEqual(['model.stg_orders']);
    expect(await selected(['+customer_totals.v2'])).toEqual(['model.customer_totals.v2', 'model.int_orders_with_customers', 'model.stg_customers', 'model.stg_orders']);
    expect(await selected(['stg_customers+'])).toEqual(['model.customer_totals.v1', 'model.customer_totals.v2', 'model.int_orders_with_customers', 'model.stg_customers']);
    expect(await selected(['stg_orders+1'])).toEqual(['model.int_orders_with_customers', 'model.orders_latest', 'model.stg_orders']);
    expect(await selected(['tag:staging'])).toEqual(['model.stg_customers', 'model.stg_orders']);
    expect(await selected(['path:models/marts'])).toEqual(['model.customer_totals.v1', 'model.customer_totals.v2', 'model.orders_latest']);
    expect(await selected(['customer_totals'])).toEqual(['model.customer_totals.v1', 'model.customer_totals.v2']);
    expect(await selected(['tag:staging countries'])).toEqual(['model.stg_customers', 'model.stg_orders', 'seed.countries']);
    expect(await selected(['path:models/marts,config.materialized:incremental'])).toEqual(['model.orders_latest']);
    expect(await selected(['source:raw.customers+'], ['customer_totals'])).toEqual(['model.int_orders_with_customers', 'model.stg_customers']);
    expect(await selected(['tag:hourly', 'seed.countries'.replace('seed.', '')])).toEqual(['model.orders_latest', 'seed.countries']);
    await expect(build({ select: ['nothing_here'] })).rejects.toThrow('--select nothing_here matches nothing in the project.');
  });

  it("runs a selected node's tests, and a test reading another node once both are there", async () => {
    const summary = await build({ select: ['stg_orders'] });
    expect(summary.tests.map((t) => t.name).sort()).toEqual([
      'accepted_values_stg_orders_status__placed__shipped__returned',
      'not_null_stg_orders_id',
      'positive_stg_orders_amount_cents',
      'relationships_stg_orders_customer_id__id__ref_stg_customers_',
      'unique_stg_orders_id',
    ]);
  });
});

describe('incremental models', () => {
  it('merge only the new and changed rows, and end equal to a full refresh', async () => {
    await build();
    await db.execute("update raw.orders set status = 'shipped', updated_at = 7 where id = 10");
    await db.execute("insert into raw.orders values (16, 2, 40, 'placed', 8)");
    const incremental = await build({ select: ['orders_latest'] });
    expect(incremental.nodes[0]).toMatchObject({ id: 'model.orders_latest', outcome: 'success', rows: 5 });
    expect(db.statements.some((s) => s.includes('delete from "marts"."orders_latest"'))).toBe(true);
    const afterIncremental = await db.query('select * from marts.orders_latest order by id');
    await build({ select: ['orders_latest'], fullRefresh: true });
    expect(await db.query('select * from marts.orders_latest order by id')).toEqual(afterIncremental);
    expect(afterIncremental.find((r) => r.id === 10)?.status).toBe('shipped');
  });
});

describe('versions and the ledger', () => {
  it('records each build (ephemeral models are built into their children), and refuses a model whose SQL changed without a new version', async () => {
    await build();
    expect(db.builds.filter((b) => b.outcome === 'success').map((b) => `${b.model}@${b.version}`).sort()).toEqual([
      'countries@1', 'customer_totals@1', 'customer_totals@2', 'orders_latest@1', 'stg_customers@1', 'stg_orders@1',
    ]);
    expect(db.builds.every((b) => /^[0-9a-f]{64}$/.test(b.checksum) && b.finishedAt >= b.startedAt)).toBe(true);
    // The same SQL again: built again.
    expect((await build()).failures).toBe(0);
    const path = join(root, 'models/marts/customer_totals_v1.sql');
    writeFileSync(path, readFileSync(path, 'utf8').replace('sum(amount_cents)', 'max(amount_cents)'));
    const summary = await build();
    const refused = summary.nodes.find((n) => n.id === 'model.customer_totals.v1');
    expect(refused?.outcome).toBe('refused');
    expect(refused?.message).toBe(
      'the SQL of customer_totals v1 changed since it was last built, and its version did not: a changed model ships as a new version beside the old (add v: 2 to its versions in the YAML)',
    );
    expect(outcomes(summary)['model.customer_totals.v2']).toBe('success');
  });
});

describe('the report', () => {
  it('totals, a table of every node, the failures with their error, and failing tests with their rows', async () => {
    await db.execute("insert into raw.orders values (15, 9, 1, 'lost', 6)");
    const report = transformReport({ ...(await build()), seconds: 1.25 });
    const lines = report.split('\n');
    expect(lines[0]).toBe('Transform failed: 6 models, 1 seed and 11 data tests in 1.3 s; 3 built, 4 skipped; tests: 5 passed, 2 failed, 4 skipped.');
    const table = lines.slice(2, 10).map((line) => line.replace(/\d+\.\d\d$/, 'S'));
    expect(table).toEqual([
      '  model                      version  materialized  outcome           rows  seconds',
      '  countries                           seed          built                3     S',
      '  stg_customers                       view          built                      S',
      '  stg_orders                          view          built                      S',
      '  int_orders_with_customers           ephemeral     skipped                    S',
      '  customer_totals            1        table         skipped                    S',
      '  customer_totals            2        table         skipped                    S',
      '  orders_latest                       incremental   skipped                    S',
    ]);
    expect(report).toContain('Data tests that did not pass:\n  accepted_values_stg_orders_status__placed__shipped__returned (on model.stg_orders): failed, 1 offending row\n      {"value_field":"lost","n_records":"1"}');
  });
});

describe('configs this runner holds to', () => {
  it('on_schema_change fail: an incremental model whose columns changed (its source gained one) is refused, saying to rebuild it; a full refresh does', async () => {
    writeFileSync(join(root, 'models/marts/orders_copy.sql'), "{{ config(materialized='incremental', unique_key='id', on_schema_change='fail') }}\nselect * from {{ source('raw', 'orders') }}");
    expect((await build({ select: ['orders_copy'] })).nodes[0]?.outcome).toBe('success');
    await db.execute('alter table raw.orders add column note varchar');
    const changed = await build({ select: ['orders_copy'] });
    expect(changed.nodes[0]).toMatchObject({ outcome: 'error', message: 'the columns of marts.orders_copy changed (new note) and on_schema_change is fail: rebuild it with --full-refresh.' });
    expect((await build({ select: ['orders_copy'], fullRefresh: true })).nodes[0]?.outcome).toBe('success');
    expect(Object.keys((await db.query('select * from marts.orders_copy limit 1'))[0] ?? {})).toContain('note');
  });

  it("runs every level's pre_hook and post_hook around the build, the project's first, rendered with this and is_incremental()", async () => {
    await db.execute('create table raw.hook_log (step varchar)');
    const project = join(root, 'dbt_project.yml');
    writeFileSync(project, readFileSync(project, 'utf8').replace('      +schema: marts\n', "      +schema: marts\n      +post-hook: \"insert into raw.hook_log values ('project after {{ this }}')\"\n"));
    writeFileSync(
      join(root, 'models/marts/hooked.sql'),
      `{{ config(materialized='incremental', unique_key='x', pre_hook="insert into raw.hook_log values ('model before')",
                 post_hook=["insert into raw.hook_log select 'model after ' || count(*) || ' {% if is_incremental() %}incremental{% else %}full{% endif %}' from {{ this }}", "delete from {{ this }} where x = 2"]) }}
select 1 as x union all select 2`,
    );
    await build({ select: ['hooked'] });
    await build({ select: ['hooked'] });
    expect((await db.query('select step from raw.hook_log')).map((r) => r.step)).toEqual([
      'model before', 'project after "marts"."hooked"', 'model after 2 full',
      'model before', 'project after "marts"."hooked"', 'model after 2 incremental',
    ]);
    // The post-hook's delete ran after each build: what is left is its work.
    expect(await db.query('select x from marts.hooked')).toEqual([{ x: 1 }]);
  });

  it('starts a new version of an incremental model with a full build, even where it takes over the old version\'s relation', async () => {
    const model = (version: number) => `{{ config(materialized='incremental', unique_key='id') }}\nselect id, ${version} as version from {{ ref('stg_orders') }}\n{% if is_incremental() %}where false{% endif %}`;
    const yml = (versions: number[]) => `version: 2\nmodels:\n  - name: order_versions\n    latest_version: ${Math.max(...versions)}\n    versions:\n${versions.map((v) => `      - v: ${v}\n        config:\n          alias: order_versions\n`).join('')}`;
    writeFileSync(join(root, 'models/marts/order_versions_v1.sql'), model(1));
    writeFileSync(join(root, 'models/marts/order_versions.yml'), yml([1]));
    expect((await build()).failures).toBe(0);
    rmSync(join(root, 'models/marts/order_versions_v1.sql'));
    writeFileSync(join(root, 'models/marts/order_versions_v2.sql'), model(2));
    writeFileSync(join(root, 'models/marts/order_versions.yml'), yml([2]));
    const second = await build({ select: ['order_versions'] });
    expect(second.nodes.map((n) => [n.id, n.outcome, n.message])).toEqual([['model.order_versions.v2', 'success', undefined]]);
    expect(await db.query('select distinct version from marts.order_versions')).toEqual([{ version: 2 }]);
    // Built once, the version is extended after that (its incremental SQL adds nothing here).
    await db.execute("insert into raw.orders values (17, 1, 5, 'placed', 9)");
    await build({ select: ['order_versions'] });
    expect((await db.query('select count(*) as n from marts.order_versions'))[0]?.n).toBe('4');
  });

  it('refuses schema-change modes it does not run, before building anything', async () => {
    writeFileSync(join(root, 'models/marts/hooked.sql'), "{{ config(materialized='incremental', on_schema_change='sync_all_columns') }}\nselect 1 as x");
    await expect(build()).rejects.toThrow(/on_schema_change sync_all_columns is not one this runner does/);
  });
});
