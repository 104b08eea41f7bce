// The bookkeeping's migrations and their ledger, on each warehouse: a new warehouse gets every
// migration at its first write, in order, each recorded; a warehouse written before the ledger
// (stripe-elt 0.1) is adopted without a change to its data; a ledger this release cannot continue
// (a migration it does not know, another order, other content) is refused at opening, before any
// work; a migration that fails is reported, with those after it not run.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryClient } from '../../connector/loaders/bigquery/bigquery-client.js';
import { BigQueryLoader } from '../../connector/loaders/bigquery/bigquery-loader.js';
import { DuckDBClient } from '../../connector/loaders/duckdb/duckdb-client.js';
import { bigqueryMigrations } from '../../connector/loaders/bigquery/migrations.js';
import { DuckDBLoader } from '../../connector/loaders/duckdb/duckdb-loader.js';
import { DuckDBLedger, duckdbMigrations } from '../../connector/loaders/duckdb/migrations.js';
import { warehouseNames } from '../../connector/loaders/loader.js';
import type { Warehouse } from '../../connector/loaders/warehouse.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import type { Dialect, Session } from '../../connector/warehouse/client.js';
import { relationName } from '../../connector/warehouse/dialect.js';
import { checksum, migrate, type Migration } from '../../connector/warehouse/migrations.js';
import { FakeBigQuery } from '../bigquery-fake/server.js';
import { finishCli, startCli } from '../cli-process.js';
import { commit, customer, openingRefusal, readRows, state } from './warehouses.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-migrations-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A place for one warehouse: loaders of it, opened one after the other, and what was asked of BigQuery. */
interface Place {
  readonly dialect: Dialect;
  loader(options?: { logger?: pino.Logger }): Warehouse;
  /** A client of the warehouse, without a loader's checks: to change its ledger behind stripe-elt's back. */
  client(): Promise<Session & { close(): Promise<void> }>;
  /** The requests the place received since `from` that were not reads (BigQuery). */
  writesSince?(from: number): { method: string; path: string; body: unknown }[];
  requestCount?(): number;
  close(): Promise<void>;
}

let files = 0;
function duckdbPlace(path = join(dir, `warehouse-${files++}.duckdb`)): Place {
  return { dialect: 'duckdb', loader: (options = {}) => new DuckDBLoader(path, options), client: () => DuckDBClient.open(path), close: async () => {} };
}

async function bigqueryPlace(): Promise<Place> {
  const fake = new FakeBigQuery();
  const url = await fake.start();
  return {
    dialect: 'bigquery',
    loader: (options = {}) => new BigQueryLoader('test-project', { apiEndpoint: url, accessToken: 'test-token', ...options }),
    client: async () => new BigQueryClient('test-project', { apiEndpoint: url, accessToken: 'test-token', location: 'US' }),
    requestCount: () => fake.requests.length,
    writesSince: (from) =>
      fake.requests
        .slice(from)
        .filter((r) => r.method !== 'GET')
        .map((r) => ({ method: r.method, path: r.path, body: r.body })),
    close: () => fake.close(),
  };
}

const PLACES: readonly [string, () => Promise<Place>][] = [
  ['DuckDB', async () => duckdbPlace()],
  ['BigQuery', bigqueryPlace],
];

/** The dialect's SQL for each engine. */
const sql = (dialect: Dialect, duckdb: string, bigquery: string) => (dialect === 'duckdb' ? duckdb : bigquery);

/** Opens a loader of the place for `use`, and closes it whatever happens. */
async function opened<T>(place: Place, use: (loader: Warehouse) => Promise<T>, options: { logger?: pino.Logger } = {}): Promise<T> {
  const loader = place.loader(options);
  await loader.open();
  try {
    return await use(loader);
  } finally {
    await loader.close();
  }
}

const ledger = (loader: Warehouse) => relationName(loader.client.dialect, loader.names.meta, 'migrations');

async function ledgerRows(loader: Warehouse): Promise<{ name: string; checksum: string }[]> {
  return (await loader.client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${ledger(loader)} ORDER BY applied_at, name`)).rows;
}

/** What opening the place says, if it refuses. */
const refusal = (place: Place) => openingRefusal(place.loader());

const NAMES = ['0001_state', '0002_settings', '0003_model_builds', '0004_webhook_events'];

describe.each(PLACES)('the migrations of the %s warehouse', (_name, create) => {
  let place: Place;
  afterEach(async () => {
    await place.close();
  });

  it('are applied at the first write, in order, each recorded with its checksum, and only once', async () => {
    place = await create();
    const expected = (place.dialect === 'duckdb' ? duckdbMigrations(warehouseNames()) : bigqueryMigrations(warehouseNames())).map((m) => ({ name: m.name, checksum: checksum(m.definition) }));
    await opened(place, async (loader) => {
      expect(loader.exists()).toBe(false);
      await commit(loader, [['customers', customer('cus_1', 100)]], { customers: state({ acct_1: { created_cursor: 1 } }) });
      expect(await ledgerRows(loader)).toEqual(expected);
      // The transform runner's ledger is there, empty, with its columns.
      const builds = await loader.client.query(`SELECT * FROM ${relationName(loader.client.dialect, loader.names.meta, 'model_builds')}`);
      expect(builds.columns.map((c) => c.name)).toEqual(['model', 'version', 'checksum', 'started_at', 'finished_at', 'rows_affected', 'outcome', 'message']);
      expect(builds.rows).toEqual([]);
    });
    // A later process finds nothing to do.
    await opened(place, async (loader) => {
      expect((await loader.migrate()).results).toEqual([]);
      expect((await ledgerRows(loader)).map((r) => r.name)).toEqual(NAMES);
      expect((await readRows(loader, 'customers')).map((r) => r.id)).toEqual(['cus_1']);
    });
  });

  it('report the result of each, on a new warehouse and on one written before the ledger', async () => {
    place = await create();
    const fresh = await opened(place, (loader) => loader.migrate());
    expect(fresh).toEqual({
      hadLedger: false,
      results: [
        { name: '0001_state', status: 'applied' },
        { name: '0002_settings', status: 'applied' },
        { name: '0003_model_builds', status: 'applied' },
        { name: '0004_webhook_events', status: 'applied' },
      ],
    });
    // The same warehouse as stripe-elt 0.1 left it: its bookkeeping tables, no ledger, no model builds.
    await opened(place, async (loader) => {
      for (const table of ['migrations', 'model_builds', 'webhook_events']) {
        // BigQuery drops tables through its API.
        if (loader instanceof BigQueryLoader) await loader.client.deleteTable(loader.names.meta, table);
        else await loader.client.execute(`DROP TABLE ${relationName('duckdb', loader.names.meta, table)}`);
      }
    });
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const adopted = await opened(place, (loader) => loader.migrate(), { logger });
    expect(adopted).toEqual({
      hadLedger: false,
      results: [
        { name: '0001_state', status: 'adopted' },
        { name: '0002_settings', status: 'adopted' },
        { name: '0003_model_builds', status: 'applied' },
        { name: '0004_webhook_events', status: 'applied' },
      ],
    });
    const description = place.dialect === 'duckdb' ? 'duckdb:' : 'bigquery:test-project';
    const logged = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(logged).toHaveLength(1);
    expect(logged[0]?.level).toBe(30);
    expect(logged[0]?.msg).toMatch(new RegExp(`^Upgraded the bookkeeping of ${description}.*: 0001_state adopted, 0002_settings adopted, 0003_model_builds applied, 0004_webhook_events applied\\.$`));
  });

  it('refuse, at opening and before any work, a ledger that holds a migration this release does not know', async () => {
    place = await create();
    await opened(place, async (loader) => {
      await loader.migrate();
      await loader.client.execute(`INSERT INTO ${ledger(loader)} (name, applied_at, checksum) VALUES ('0004_from_a_newer_release', ${sql(place.dialect, 'now()', 'CURRENT_TIMESTAMP()')}, 'abc')`);
    });
    const from = place.requestCount?.() ?? 0;
    const message = await refusal(place);
    expect(message).toMatch(
      /^(duckdb:\S+|bigquery:test-project) was upgraded by a newer release of stripe-elt: its ledger stripe_elt\.migrations holds the migration 0004_from_a_newer_release, which this release does not know\. Nothing was changed; use that release \(or a newer one\) with this warehouse\.$/,
    );
    // Nothing but reads: the ledger's query.
    expect(place.writesSince?.(from).map((r) => (r.body as { configuration: { query: { query: string } } }).configuration.query.query) ?? []).toEqual(
      place.dialect === 'bigquery' ? ['SELECT name, checksum FROM `test-project.stripe_elt.migrations` ORDER BY applied_at, name'] : [],
    );
  });

  it('refuse a ledger that holds its migrations in another order, and one whose migration has other content', async () => {
    place = await create();
    await opened(place, async (loader) => {
      await loader.migrate();
      await loader.client.execute(`UPDATE ${ledger(loader)} SET applied_at = ${sql(place.dialect, 'to_timestamp(1)', 'TIMESTAMP_SECONDS(1)')} WHERE name = '0002_settings'`);
    });
    expect(await refusal(place)).toMatch(
      /^The ledger stripe_elt\.migrations of \S+ holds its migrations in another order than stripe-elt applies them \(0002_settings, 0001_state, 0003_model_builds, 0004_webhook_events, where stripe-elt applies 0001_state, 0002_settings, 0003_model_builds, 0004_webhook_events\): something else than stripe-elt wrote it\. Nothing was changed; restore the ledger, or load into a new warehouse\.$/,
    );
    // Put back in order, with other content for 0003.
    const names = warehouseNames();
    const migrations = relationName(place.dialect, names.meta, 'migrations');
    const client = await place.client();
    await client.execute(`UPDATE ${migrations} SET applied_at = ${sql(place.dialect, 'to_timestamp(0)', 'TIMESTAMP_SECONDS(0)')} WHERE name = '0001_state'`);
    await client.execute(`UPDATE ${migrations} SET checksum = 'cafe0000000000000000' WHERE name = '0003_model_builds'`);
    await client.close();
    const expected = checksum((place.dialect === 'duckdb' ? duckdbMigrations(names) : bigqueryMigrations(names))[2]?.definition ?? '');
    expect(await refusal(place)).toBe(
      `The migration 0003_model_builds of ${place.loader().description} was applied with other content than this release's (the ledger stripe_elt.migrations has the checksum cafe00000000…, ` +
        `this release ${expected.slice(0, 12)}…): a released migration was changed. Nothing was changed; report it, and use the release that applied it.`,
    );
  });
});

describe('the migrations of both warehouses', () => {
  it('have the same names in the same order, and the released ones keep their checksums', () => {
    const names = warehouseNames();
    expect(duckdbMigrations(names).map((m) => m.name)).toEqual(NAMES);
    expect(bigqueryMigrations(names).map((m) => m.name)).toEqual(NAMES);
    // A released migration never changes: the ledgers of existing warehouses hold these.
    expect(duckdbMigrations(names).map((m) => checksum(m.definition).slice(0, 16))).toEqual(['0c0be6da24cddce2', '72a6a4920d88a8bf', '541058fea454a732', '0d9b2173019ab633']);
    expect(bigqueryMigrations(names).map((m) => checksum(m.definition).slice(0, 16))).toEqual(['ca386fe3506c74e3', '4f94038d7a683aee', 'fdbc540ea70c3872', '2e7ae9143afa4c83']);
    // Whatever the dataset prefix.
    expect(bigqueryMigrations(warehouseNames('acme_')).map((m) => checksum(m.definition))).toEqual(bigqueryMigrations(names).map((m) => checksum(m.definition)));
  });

  it('a migration that fails is reported with its error, those after it are not run, and DuckDB keeps nothing of it', async () => {
    const path = join(dir, 'failing.duckdb');
    const loader = new DuckDBLoader(path);
    await loader.open();
    try {
      const names = warehouseNames();
      const table = (name: string) => relationName('duckdb', names.meta, name);
      const migrations: Migration<Session>[] = [
        { name: '0001_first', definition: 'CREATE TABLE first', up: async (s) => void (await s.execute(`CREATE TABLE ${table('first')} (n INTEGER)`)) },
        {
          name: '0002_broken',
          definition: 'CREATE TABLE half; a broken statement',
          up: async (s) => {
            await s.execute(`CREATE TABLE ${table('half')} (n INTEGER)`);
            await s.execute(`INSERT INTO ${table('half')} VALUES ('not a number')`);
          },
        },
        { name: '0003_after', definition: 'CREATE TABLE after', up: async (s) => void (await s.execute(`CREATE TABLE ${table('after')} (n INTEGER)`)) },
      ];
      const report = await migrate(new DuckDBLedger(loader.client, names), migrations);
      expect(report.results.map((r) => [r.name, r.status])).toEqual([
        ['0001_first', 'applied'],
        ['0002_broken', 'failed'],
        ['0003_after', 'not run'],
      ]);
      expect(report.results[1]?.error).toMatch(/Could not convert string 'not a number' to INT32/);
      const tables = await loader.client.query(`SELECT table_name FROM duckdb_tables() WHERE schema_name = 'stripe_elt' ORDER BY 1`);
      expect(tables.rows.map((r) => r.table_name)).toEqual(['first', 'migrations']);
      expect((await loader.client.query(`SELECT name FROM ${table('migrations')}`)).rows).toEqual([{ name: '0001_first' }]);
    } finally {
      await loader.close();
    }
  });
});

describe('a warehouse written by stripe-elt 0.1, without a ledger', () => {
  let original: string;
  beforeAll(() => {
    original = join(dir, 'stripe-elt-0.1.duckdb');
    writeFileSync(original, gunzipSync(readFileSync(new URL('../fixtures/warehouses/stripe-elt-0.1.duckdb.gz', import.meta.url))));
  });

  /** Everything the raw tables and the bookkeeping of 0.1 hold, as one digest. */
  async function contents(loader: Warehouse): Promise<string> {
    const hash = createHash('sha256');
    for (const stream of STREAM_NAMES) {
      const { rows } = await loader.client.query(`SELECT * FROM ${relationName('duckdb', 'stripe_raw', stream)} ORDER BY account_id, id`);
      hash.update(JSON.stringify(rows, (_, value: unknown) => (typeof value === 'bigint' ? String(value) : value)));
    }
    for (const table of ['state', 'settings']) {
      const { rows } = await loader.client.query(`SELECT * FROM stripe_elt.${table} ORDER BY 1`);
      hash.update(JSON.stringify(rows));
    }
    return hash.digest('hex');
  }

  it('is adopted: its layout checked, its bookkeeping recorded as migrations 1 and 2, the model builds added, and its data unchanged', async () => {
    const path = join(dir, 'adopted.duckdb');
    copyFileSync(original, path);
    const before = await opened(duckdbPlace(path), contents);
    const report = await opened(duckdbPlace(path), (loader) => loader.migrate());
    expect(report.results).toEqual([
      { name: '0001_state', status: 'adopted' },
      { name: '0002_settings', status: 'adopted' },
      { name: '0003_model_builds', status: 'applied' },
      { name: '0004_webhook_events', status: 'applied' },
    ]);
    await opened(duckdbPlace(path), async (loader) => {
      expect(await contents(loader)).toBe(before);
      expect((await ledgerRows(loader)).map((r) => r.name)).toEqual(NAMES);
      expect((await loader.states()).size).toBe(STREAM_NAMES.length);
    });
  });

  it('says so when a command writes to it: write logs the migrations it applied', async () => {
    const path = join(dir, 'written.duckdb');
    copyFileSync(original, path);
    const result = await finishCli(startCli(['write', '--warehouse', `duckdb:${path}`], { input: '' }));
    expect(result.code).toBe(0);
    // Nothing to write: nothing is migrated either.
    expect(result.stderr).not.toContain('Upgraded the bookkeeping');
    const record = JSON.stringify({ type: 'RECORD', record: { stream: 'customers', data: customer('cus_new', 1_800_000_000, { account_id: 'acct_1' }), emitted_at: 1 } });
    const wrote = await finishCli(startCli(['write', '--warehouse', `duckdb:${path}`], { input: `${record}\n` }));
    expect(wrote.code).toBe(0);
    expect(wrote.stderr).toContain(`"msg":"Upgraded the bookkeeping of duckdb:${path}: 0001_state adopted, 0002_settings adopted, 0003_model_builds applied, 0004_webhook_events applied."`);
  });
});
