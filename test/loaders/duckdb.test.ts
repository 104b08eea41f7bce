// What the DuckDB warehouse checks when it opens, before any work: that the file is a stripe-elt
// warehouse or new, that it is a DuckDB database and whole, and which process holds it. A
// refused file is left exactly as it was.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBClient } from '../../connector/loaders/duckdb/duckdb-client.js';
import { DuckDBLoader } from '../../connector/loaders/duckdb/duckdb-loader.js';
import { commit, customer, openingRefusal, readRows } from './warehouses.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-duckdb-checks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A DuckDB file made by another program, with these statements. */
async function database(name: string, sql: string): Promise<string> {
  const path = join(dir, name);
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  if (sql) await connection.run(sql);
  connection.closeSync();
  instance.closeSync();
  return path;
}

/** The schemas and relations of a file, read through a client that only reads. */
async function catalog(path: string): Promise<string[]> {
  const client = await DuckDBClient.open(path, { readOnly: true });
  try {
    const { rows } = await client.query(
      `SELECT 'schema ' || schema_name AS name FROM duckdb_schemas() WHERE database_name = current_database()
       UNION ALL SELECT 'table ' || schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = current_database()
       ORDER BY 1`,
    );
    return rows.map((row) => String(row.name));
  } finally {
    await client.close();
  }
}

const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Opens `path` as a warehouse; the sentence it was refused with. */
const refusal = (path: string) => openingRefusal(new DuckDBLoader(path));

describe('the DuckDB warehouse, opening a file that is not a stripe-elt warehouse', () => {
  it('refuses a file whose stripe_raw.charges has other columns, naming the table and the difference, and creates nothing in it', async () => {
    const path = await database('other-charges.duckdb', 'CREATE SCHEMA stripe_raw; CREATE TABLE stripe_raw.charges (x INT); INSERT INTO stripe_raw.charges VALUES (1)');
    const before = { catalog: await catalog(path), digest: digest(path) };
    expect(await refusal(path)).toBe(
      `${path} is not a stripe-elt warehouse: its table stripe_raw.charges has other columns than stripe-elt's ` +
        "(it has x INTEGER, which stripe-elt's has not; it lacks account_id VARCHAR, id VARCHAR, livemode BOOLEAN, created TIMESTAMP WITH TIME ZONE, " +
        'is_deleted BOOLEAN, observed_at TIMESTAMP WITH TIME ZONE, synced_at TIMESTAMP WITH TIME ZONE, data JSON). ' +
        'Nothing was written to it; give another path with --warehouse duckdb:PATH.',
    );
    expect(await catalog(path)).toEqual(['schema main', 'schema stripe_raw', 'table stripe_raw.charges']);
    expect(await catalog(path)).toEqual(before.catalog);
    expect(digest(path)).toBe(before.digest);
    expect(readdirSync(dir).filter((f) => f.startsWith('other-charges'))).toEqual(['other-charges.duckdb']);
  });

  it('refuses bookkeeping tables of other types, naming each difference', async () => {
    const path = await database('other-state.duckdb', 'CREATE SCHEMA stripe_elt; CREATE TABLE stripe_elt.state (stream VARCHAR, state VARCHAR, updated_at TIMESTAMP)');
    expect(await refusal(path)).toBe(
      `${path} is not a stripe-elt warehouse: its table stripe_elt.state has other columns than stripe-elt's ` +
        '(state is VARCHAR, not JSON; updated_at is TIMESTAMP, not TIMESTAMP WITH TIME ZONE; its primary key is not stream). ' +
        'Nothing was written to it; give another path with --warehouse duckdb:PATH.',
    );
    expect(await catalog(path)).toEqual(['schema main', 'schema stripe_elt', 'table stripe_elt.state']);
  });

  it('refuses a file holding other data and no stripe-elt bookkeeping', async () => {
    const path = await database('shop.duckdb', 'CREATE TABLE orders (id INT); CREATE SCHEMA sales; CREATE TABLE sales.items (id INT); CREATE VIEW totals AS SELECT 1 AS n');
    const before = digest(path);
    expect(await refusal(path)).toBe(
      `${path} is not a stripe-elt warehouse: it holds other data (3 tables and views: main.orders, main.totals, sales.items) and no stripe-elt bookkeeping (the stripe_elt schema). ` +
        'Nothing was written to it; give another path with --warehouse duckdb:PATH.',
    );
    expect(digest(path)).toBe(before);
  });

  it('says that a file of random bytes, and a text file, are not DuckDB databases, and that a damaged one is damaged', async () => {
    const random = join(dir, 'random.duckdb');
    writeFileSync(random, randomBytes(40_000));
    const text = join(dir, 'notes.duckdb');
    writeFileSync(text, 'Meeting notes\n- load Stripe into DuckDB\n'.repeat(200));
    for (const path of [random, text]) {
      const before = digest(path);
      expect(await refusal(path)).toBe(
        `${path} is not a DuckDB database: DuckDB does not recognise what the file holds. Give the path of a stripe-elt warehouse, or of a new file, with --warehouse duckdb:PATH.`,
      );
      expect(digest(path)).toBe(before);
    }
    // A real warehouse whose blocks after the header were overwritten.
    const damaged = await database('damaged.duckdb', 'CREATE TABLE t AS SELECT range AS n FROM range(100000)');
    const bytes = readFileSync(damaged);
    for (let i = 12_288; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    writeFileSync(damaged, bytes);
    expect(await refusal(damaged)).toMatch(
      new RegExp(`^${damaged} is a damaged DuckDB database, which DuckDB cannot read \\(Corrupt database file: .*\\)\\. Restore it from a copy, or load into a new file with --warehouse duckdb:PATH\\.$`),
    );
    const empty = join(dir, 'empty.duckdb');
    writeFileSync(empty, '');
    expect(await refusal(empty)).toBe(`${empty} is an empty file, not a DuckDB database: remove it (the next load creates the database there), or give another path with --warehouse duckdb:PATH.`);
  });

  it('says when the folder of a new file does not exist, or the path is a folder, creating nothing', async () => {
    const missing = join(dir, 'no-such-folder', 'stripe.duckdb');
    expect(await refusal(missing)).toBe(
      `The folder ${join(dir, 'no-such-folder')} does not exist, so the DuckDB warehouse ${missing} cannot be created there: create the folder, or give another path with --warehouse duckdb:PATH.`,
    );
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    expect(await refusal(folder)).toBe(`${folder} is a folder, not a DuckDB database file: give a file's path, such as --warehouse duckdb:${join(folder, 'stripe.duckdb')}.`);
  });
});

describe('the DuckDB warehouse, opening a file that is new or ours', () => {
  it('opens an empty DuckDB database and a stripe-elt warehouse that also holds an analyst\'s tables', async () => {
    const empty = await database('empty-database.duckdb', 'CREATE SCHEMA stripe_raw');
    const fresh = new DuckDBLoader(empty);
    await fresh.open();
    expect(fresh.exists()).toBe(false);
    await commit(fresh, [['customers', customer('cus_1', 100)]]);
    expect(fresh.exists()).toBe(true);
    await fresh.close();
    const instance = await DuckDBInstance.create(empty);
    const connection = await instance.connect();
    await connection.run('CREATE TABLE main.notes AS SELECT 1 AS n; CREATE SCHEMA reports; CREATE VIEW reports.customers AS SELECT * FROM stripe_raw.customers');
    connection.closeSync();
    instance.closeSync();
    const again = new DuckDBLoader(empty);
    await again.open();
    expect(again.exists()).toBe(true);
    expect((await readRows(again, 'customers')).map((row) => row.id)).toEqual(['cus_1']);
    await again.close();
  });

  it('attaches the file under the name any DuckDB client gives it, so that SQL naming it reads the same elsewhere', async () => {
    for (const [file, expected] of [
      ['stripe.duckdb', 'stripe'],
      ['acme.test.duckdb', 'acme'],
      ['memory.duckdb', 'warehouse'],
    ] as const) {
      const client = await DuckDBClient.open(join(dir, file));
      try {
        expect((await client.query('SELECT current_database() AS name')).rows).toEqual([{ name: expected }]);
        expect(client.catalog).toBe(expected);
      } finally {
        await client.close();
      }
    }
    // The DuckDB CLI's name for the file (its default): the same.
    const instance = await DuckDBInstance.create(join(dir, 'stripe.duckdb'), { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    expect((await connection.runAndReadAll('SELECT current_database() AS name')).getRowObjectsJson()).toEqual([{ name: 'stripe' }]);
    connection.closeSync();
    instance.closeSync();
  });

  it('creates nothing on opening a new file, and leaves no file when it closes without having written', async () => {
    const path = join(dir, 'opened-only.duckdb');
    const loader = new DuckDBLoader(path);
    await loader.open();
    expect(loader.exists()).toBe(false);
    expect(await loader.mode()).toBeNull();
    expect(await loader.states()).toEqual(new Map());
    await loader.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('opened-only'))).toEqual([]);
  });
});

describe('the DuckDB warehouse, opening a file another process holds', () => {
  let holder: ChildProcess | undefined;
  afterAll(() => {
    holder?.kill('SIGKILL');
  });

  it('names the program that holds it read-only, and says that DuckDB lets one process open a file it writes', async () => {
    const path = await database('held.duckdb', '');
    holder = spawn(process.execPath, ['--import', 'tsx', 'test/loaders/hold-file.ts', path, 'read-only'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(holder.stdout ?? holder, 'data')) as [Buffer];
    expect(line.toString()).toBe('holding\n');
    const message = await refusal(path);
    expect(message).toBe(
      `${path} is open in another program, process ${holder.pid} (${process.execPath} --import tsx test/loaders/hold-file.ts ${path} read-only), read-only: ` +
        'DuckDB lets one process at a time open a file it writes, so a load cannot write to it while another program has it open, even to read. ' +
        'Close it there, or wait for that program to end, then run again.',
    );
    expect(message).not.toContain('Another');
    holder.kill('SIGKILL');
    await once(holder, 'close');
    holder = undefined;
    // Once it is closed, the warehouse opens.
    const loader = new DuckDBLoader(path);
    await loader.open();
    await loader.close();
  });
});
