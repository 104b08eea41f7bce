// `stripe-elt query` as a process: its three formats with exact values, the aligned table on a
// terminal, "(no rows)", read-only (an INSERT refused, the file unchanged), and one sentence for a
// missing warehouse, a failing query and a warehouse a load holds; on BigQuery, a dry run refuses
// what is not a query before anything runs.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishCli, startCli } from '../cli-process.js';
import { FakeBigQuery } from '../bigquery-fake/server.js';
import { startSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { configFor } from '../connector/helpers.js';
import { screen } from '../terminal-screen.js';
import { bigqueryWarehouse, commit, customer, withDuckDB } from './warehouses.js';

let dir: string;
let warehouse: string;
const query = (sql: string, ...args: string[]) => finishCli(startCli(['query', sql, '--warehouse', `duckdb:${warehouse}`, ...args]));
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-query-'));
  warehouse = join(dir, 'stripe.duckdb');
  await withDuckDB(warehouse, (loader) => commit(loader, [['customers', customer('cus_1', 100)], ['customers', customer('cus_2', 200, { deleted: true })]]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Values of every kind the formats render: integers beyond a double, a decimal, a timestamp, JSON, a text to quote, NULL. */
const VALUES = `SELECT 1 AS n, 'plain' AS text, 12345678901234567890::HUGEINT AS big, 1.50::DECIMAL(10, 2) AS amount,
         TIMESTAMPTZ '2024-01-02 03:04:05.5+00' AS moment, '{"a":[1,2]}'::JSON AS data, NULL::BOOLEAN AS flag
  UNION ALL SELECT 2, 'with "quotes", a comma' || chr(10) || 'and a line', -1, 0.25, TIMESTAMPTZ '2024-01-02 03:04:06+00', '[]'::JSON, true
  ORDER BY n`;

describe('stripe-elt query on a DuckDB warehouse', () => {
  it('prints JSON lines with exact values: integers and decimals as their digits, timestamps in ISO 8601, JSON as JSON', async () => {
    const result = await query(VALUES, '--format', 'json');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      '{"n":1,"text":"plain","big":12345678901234567890,"amount":1.50,"moment":"2024-01-02T03:04:05.5Z","data":{"a":[1,2]},"flag":null}\n' +
        '{"n":2,"text":"with \\"quotes\\", a comma\\nand a line","big":-1,"amount":0.25,"moment":"2024-01-02T03:04:06Z","data":[],"flag":true}\n',
    );
    expect(result.code).toBe(0);
    // Exact as the warehouse holds them: a double would read 12345678901234567000.
    expect(result.stdout).not.toContain('12345678901234567000');
  });

  it('prints CSV quoted as RFC 4180 says, and JSON lines by default when its output is not a terminal', async () => {
    const result = await query(VALUES, '--format', 'csv');
    expect(result.stdout).toBe(
      'n,text,big,amount,moment,data,flag\r\n' +
        '1,plain,12345678901234567890,1.50,2024-01-02T03:04:05.5Z,"{""a"":[1,2]}",\r\n' +
        '2,"with ""quotes"", a comma\nand a line",-1,0.25,2024-01-02T03:04:06Z,[],true\r\n',
    );
    expect(result.code).toBe(0);
    const byDefault = await query('SELECT id, is_deleted FROM stripe_raw.customers ORDER BY id');
    expect(byDefault.stdout).toBe('{"id":"cus_1","is_deleted":false}\n{"id":"cus_2","is_deleted":true}\n');
  });

  it('prints an aligned table, numbers to the right, and says "(no rows)" for an empty result', async () => {
    const result = await query(VALUES, '--format', 'table');
    expect(result.stdout).toBe(
      [
        'n  text                                                 big  amount  moment                  data         flag',
        '-  ----------------------------------  --------------------  ------  ----------------------  -----------  ----',
        '1  plain                               12345678901234567890    1.50  2024-01-02T03:04:05.5Z  {"a":[1,2]}  NULL',
        '2  with "quotes", a comma\\nand a line                    -1    0.25  2024-01-02T03:04:06Z    []           true',
        '(2 rows)',
        '',
      ].join('\n'),
    );
    const empty = await query("SELECT id FROM stripe_raw.customers WHERE id = 'cus_none'", '--format', 'table');
    expect(empty.stdout).toBe('(no rows)\n');
    expect(empty.code).toBe(0);
  });

  it('prints the table by default on a terminal', async () => {
    const quoted = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, '--import', 'tsx', 'connector/cli.ts', 'query', 'SELECT id, created FROM stripe_raw.customers ORDER BY id', '--warehouse', `duckdb:${warehouse}`].map(quoted).join(' ');
    const child = spawn('script', ['-qec', `stty cols 100 rows 40; exec ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let raw = '';
    child.stdout?.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code).toBe(0);
    expect(screen(raw)).toEqual(['id     created', '-----  --------------------', 'cus_1  2023-11-14T22:13:20Z', 'cus_2  2023-11-14T22:13:20Z', '(2 rows)']);
  });

  it('only reads: an INSERT is refused in one sentence, exit code 1, and the file is left as it was', async () => {
    const before = digest(warehouse);
    const result = await query("INSERT INTO stripe_elt.settings VALUES ('mode', 'live')");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`stripe-elt query only reads, and this is an INSERT statement: nothing was written to duckdb:${warehouse}.\n`);
    expect(digest(warehouse)).toBe(before);
    expect((await query("SELECT value FROM stripe_elt.settings WHERE key = 'mode'")).stdout).toBe('{"value":"test"}\n');
  });

  it('says in one sentence that there is no warehouse at a path, creating none, and what a failing query was told', async () => {
    const missing = join(dir, 'stirpe.duckdb');
    const result = await finishCli(startCli(['query', 'SELECT 1', '--warehouse', `duckdb:${missing}`]));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`There is no DuckDB warehouse at ${missing}: check --warehouse duckdb:PATH (a query opens a warehouse that a load made; it creates none).\n`);
    expect(existsSync(missing)).toBe(false);
    const failing = await query('SELECT * FROM stripe_raw.customer');
    expect(failing.code).toBe(1);
    expect(failing.stderr).toBe(`The query failed on duckdb:${warehouse}: Catalog Error: Table with name customer does not exist! Did you mean "customers"?\n`);
  });

  it('says that a load holds the warehouse, naming its process, while it writes', async () => {
    const sim = await startSimulator({ seed: 'query-held', objects: 200, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(configFor(sim)));
    const held = join(dir, 'held.duckdb');
    try {
      // The load's requests wait for their answers: it holds the file until it is stopped.
      await control(sim, 'faults', { latency_ms: 30_000 });
      const load = startCli(['load', '--config', config, '--warehouse', `duckdb:${held}`]);
      const loadDone = finishCli(load);
      while ((await control<{ total: number }>(sim, 'stats')).total === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const result = await finishCli(startCli(['query', 'SELECT 1 AS n', '--warehouse', `duckdb:${held}`]));
      load.kill('SIGKILL');
      await loadDone;
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `Another stripe-elt load is writing to ${held} (process ${load.pid}), and DuckDB lets no other process open a file while one writes to it, even to read. Query it once the load has finished.\n`,
      );
    } finally {
      await sim.close();
    }
  });
});

describe('stripe-elt query on a BigQuery warehouse', () => {
  it('runs a query, and refuses anything else after a dry run, running nothing', async () => {
    const loaded = await bigqueryWarehouse();
    try {
      await commit(loaded.loader, [['customers', customer('cus_1', 100)]]);
      const fake = loaded.fake as FakeBigQuery;
      const run = (sql: string) => finishCli(startCli(['query', sql, '--warehouse', 'bigquery:test-project', '--bigquery-endpoint', fake.url], { env: { BIGQUERY_ACCESS_TOKEN: 'test-token' } }));
      const answered = await run('SELECT id, created, data FROM stripe_raw.customers');
      expect(answered.stderr).toBe('');
      expect(answered.stdout).toBe(`{"id":"cus_1","created":"2023-11-14T22:13:20Z","data":${JSON.stringify(customer('cus_1', 100))}}\n`);
      const from = fake.requests.length;
      const refused = await run("INSERT INTO stripe_elt.settings (key, value) VALUES ('mode', 'live')");
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe('stripe-elt query only reads, and this is an INSERT statement: nothing was written to bigquery:test-project.\n');
      const jobs = fake.requests.slice(from).filter((r) => r.method === 'POST').map((r) => (r.body as { configuration: { dryRun?: boolean } }).configuration);
      expect(jobs).toEqual([expect.objectContaining({ dryRun: true })]);
      const [mode] = (await loaded.loader.client.query("SELECT value FROM `test-project.stripe_elt.settings` WHERE key = 'mode'")).rows;
      expect(mode).toEqual({ value: 'test' });
    } finally {
      await loaded.close();
    }
  });
});
