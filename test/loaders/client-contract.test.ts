// One contract, every warehouse client: what the port promises (bound parameters, rows as plain
// objects of exact values, rows changed, transactions that commit all or nothing, the dialect),
// run on DuckDB in a file and on BigQuery through the local endpoint that plays its REST API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BigQueryClient } from '../../connector/loaders/bigquery/bigquery-client.js';
import { DuckDBClient } from '../../connector/loaders/duckdb/duckdb-client.js';
import { Decimal, Json, type Dialect, type WarehouseClient } from '../../connector/warehouse/client.js';
import { relationName } from '../../connector/warehouse/dialect.js';
import { FakeBigQuery } from '../bigquery-fake/server.js';

interface TestClient {
  readonly client: WarehouseClient;
  /** Creates the table `contract.items (id STRING, n INT64)` and returns its name in SQL. */
  items(): Promise<string>;
  close(): Promise<void>;
}

async function duckdbClient(): Promise<TestClient> {
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-client-'));
  const client = await DuckDBClient.open(join(dir, 'client.duckdb'));
  return {
    client,
    items: async () => {
      await client.execute('CREATE SCHEMA contract; CREATE TABLE contract.items (id VARCHAR, n BIGINT)');
      return relationName('duckdb', 'contract', 'items');
    },
    close: async () => {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function bigqueryClient(): Promise<TestClient> {
  const fake = new FakeBigQuery();
  const url = await fake.start();
  const client = new BigQueryClient('test-project', { apiEndpoint: url, accessToken: 'test-token' });
  return {
    client,
    items: async () => {
      // BigQuery creates tables outside SQL transactions, through its API.
      await client.createDataset('contract');
      await client.createTable('contract', 'items', { schema: { fields: [{ name: 'id', type: 'STRING' }, { name: 'n', type: 'INT64' }] } });
      return relationName('bigquery', 'contract', 'items');
    },
    close: async () => {
      await client.close();
      await fake.close();
    },
  };
}

const CLIENTS: readonly [Dialect, () => Promise<TestClient>][] = [
  ['duckdb', duckdbClient],
  ['bigquery', bigqueryClient],
];

/** The dialect's SQL for each engine. */
const sql = (dialect: Dialect, duckdb: string, bigquery: string) => (dialect === 'duckdb' ? duckdb : bigquery);

describe.each(CLIENTS)('the %s client', (dialect, create) => {
  let tested: TestClient;
  beforeEach(async () => {
    tested = await create();
  });
  afterEach(async () => {
    await tested.close();
  });
  /** A parameter as the dialect names it. */
  const p = (name: string) => (dialect === 'duckdb' ? `$${name}` : `@${name}`);

  it('says its dialect', () => {
    expect(tested.client.dialect).toBe(dialect);
  });

  it('binds parameters of each type, and returns them as the same values', async () => {
    const params = { text: "it's 5 o'clock, café", whole: 42, fraction: 1.5, big: 9_007_199_254_740_993n, yes: true, moment: new Date('2024-01-02T03:04:05.123Z'), nothing: null };
    const { columns, rows } = await tested.client.query(`SELECT ${Object.keys(params).map((name) => `${p(name)} AS ${name}`).join(', ')}`, params);
    expect(columns.map((c) => c.name)).toEqual(['text', 'whole', 'fraction', 'big', 'yes', 'moment', 'nothing']);
    expect(rows).toEqual([{ text: "it's 5 o'clock, café", whole: 42n, fraction: 1.5, big: 9_007_199_254_740_993n, yes: true, moment: '2024-01-02T03:04:05.123Z', nothing: null }]);
    // A parameter is a value, never SQL.
    const injected = await tested.client.query(`SELECT ${p('text')} AS text`, { text: "x' OR '1'='1" });
    expect(injected.rows).toEqual([{ text: "x' OR '1'='1" }]);
  });

  it('returns 64-bit integers, decimals and JSON exactly, and timestamps in ISO 8601 to the microsecond', async () => {
    const { rows } = await tested.client.query(
      sql(
        dialect,
        `SELECT 9223372036854775807 AS largest, CAST('12345678901234567890.123456789' AS DECIMAL(38, 9)) AS amount, '{"amount":1200,"tags":["a"]}'::JSON AS data,
                make_timestamptz(1704164645123456) AS moment`,
        `SELECT 9223372036854775807 AS largest, CAST('12345678901234567890.123456789' AS NUMERIC) AS amount, PARSE_JSON('{"amount":1200,"tags":["a"]}') AS data,
                TIMESTAMP_MICROS(1704164645123456) AS moment`,
      ),
    );
    expect(rows).toEqual([{ largest: 9_223_372_036_854_775_807n, amount: new Decimal('12345678901234567890.123456789'), data: new Json('{"amount":1200,"tags":["a"]}'), moment: '2024-01-02T03:04:05.123456Z' }]);
  });

  it('says how many rows a statement inserted, updated or deleted', async () => {
    const items = await tested.items();
    expect(await tested.client.execute(`INSERT INTO ${items} (id, n) VALUES ('a', 1), ('b', 2), ('c', 3)`)).toBe(3);
    expect(await tested.client.execute(`UPDATE ${items} SET n = n + 10 WHERE n >= ${p('least')}`, { least: 2 })).toBe(2);
    expect(await tested.client.execute(`DELETE FROM ${items} WHERE id = ${p('id')}`, { id: 'a' })).toBe(1);
    expect(await tested.client.execute(`DELETE FROM ${items} WHERE id = 'none'`)).toBe(0);
    expect((await tested.client.query(`SELECT id, n FROM ${items} ORDER BY id`)).rows).toEqual([
      { id: 'b', n: 12n },
      { id: 'c', n: 13n },
    ]);
  });

  it('commits a transaction whole: its statements see their own writes, and the result is returned', async () => {
    const items = await tested.items();
    const seen = await tested.client.transaction(async (transaction) => {
      await transaction.execute(`INSERT INTO ${items} (id, n) VALUES ('a', 1)`);
      await transaction.execute(`INSERT INTO ${items} (id, n) VALUES (${p('id')}, ${p('n')})`, { id: 'b', n: 2 });
      return (await transaction.query(`SELECT count(*) AS n FROM ${items}`)).rows[0]?.n;
    });
    expect(seen).toBe(2n);
    expect((await tested.client.query(`SELECT id FROM ${items} ORDER BY id`)).rows).toEqual([{ id: 'a' }, { id: 'b' }]);
  });

  it('leaves nothing of a transaction that fails, whether its work throws or a statement fails, and throws the error', async () => {
    const items = await tested.items();
    await tested.client.execute(`INSERT INTO ${items} (id, n) VALUES ('kept', 0)`);
    const thrown = new Error('the work failed');
    await expect(
      tested.client.transaction(async (transaction) => {
        await transaction.execute(`INSERT INTO ${items} (id, n) VALUES ('lost', 1)`);
        await transaction.execute(`UPDATE ${items} SET n = 99 WHERE id = 'kept'`);
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    await expect(
      tested.client.transaction(async (transaction) => {
        await transaction.execute(`INSERT INTO ${items} (id, n) VALUES ('lost', 2)`);
        await transaction.execute(`INSERT INTO ${items} (id, n) VALUES ('bad', CAST('not a number' AS ${sql(dialect, 'BIGINT', 'INT64')}))`);
      }),
    ).rejects.toThrow(/not a number/);
    expect((await tested.client.query(`SELECT id, n FROM ${items}`)).rows).toEqual([{ id: 'kept', n: 0n }]);
    // The client is usable again.
    expect(await tested.client.execute(`INSERT INTO ${items} (id, n) VALUES ('after', 3)`)).toBe(1);
  });

  it('runs nothing else while a transaction holds it: a query meanwhile waits, and sees what the transaction committed', async () => {
    const items = await tested.items();
    let release = () => {};
    const inside = new Promise<void>((resolve) => (release = resolve));
    let started = () => {};
    const begun = new Promise<void>((resolve) => (started = resolve));
    const transaction = tested.client.transaction(async (session) => {
      await session.execute(`INSERT INTO ${items} (id, n) VALUES ('a', 1)`);
      started();
      await inside;
      await session.execute(`INSERT INTO ${items} (id, n) VALUES ('b', 2)`);
    });
    await begun;
    let answered = false;
    const meanwhile = tested.client.query(`SELECT count(*) AS n FROM ${items}`).then((result) => {
      answered = true;
      return result.rows[0]?.n;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    release();
    await transaction;
    expect(await meanwhile).toBe(2n);
  });
});
