// What the BigQuery warehouse asks of BigQuery: the datasets and tables it defines, the load
// jobs and the SQL it sends, as the local endpoint received them. (The contract suite checks
// the results.)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { afterEach, describe, expect, it } from 'vitest';
import { queryExample, rowCounts } from '../../connector/commands/load.js';
import { finishCli, startCli } from '../cli-process.js';
import { parse as parseSql } from 'sql-parser-cst';
import { reset } from '../../connector/commands/reset.js';
import { BigQueryLoader } from '../../connector/loaders/bigquery/bigquery-loader.js';
import { bigqueryWarehouse, commit, customer, state, type TestWarehouse, readRows } from './warehouses.js';

let warehouse: TestWarehouse | undefined;

/** Makes the lease in the warehouse this many seconds old, as if its load had not committed since. */
async function ageLease(on: TestWarehouse, seconds: number): Promise<void> {
  const [job] = await clientOf(on).createQueryJob({ query: `UPDATE \`test-project.stripe_elt.settings\` SET value = CAST(UNIX_SECONDS(CURRENT_TIMESTAMP()) - ${seconds} AS STRING) WHERE key = 'writer_at'` });
  await job.getQueryResults();
}

/** A BigQuery client of the warehouse's local endpoint, for what a test does beside the loader. */
function clientOf(on: TestWarehouse): BigQuery {
  return new BigQuery({ projectId: 'test-project', apiEndpoint: on.fake?.url ?? '', authClient: new OAuth2Client({ credentials: { access_token: 'test-token' } }) });
}
afterEach(async () => {
  await warehouse?.close();
  warehouse = undefined;
});

describe('the BigQuery warehouse', () => {
  it('creates nothing on opening, and its datasets at the first commit, in the location asked, with the prefix asked', async () => {
    warehouse = await bigqueryWarehouse({ datasetPrefix: 'acme_', location: 'EU' });
    expect(warehouse.fake?.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(warehouse.loader.exists()).toBe(false);
    await commit(warehouse.loader, [['customers', customer('cus_1', 100)]]);
    const created = warehouse.fake?.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/datasets')).map((r) => r.body as { datasetReference: { datasetId: string }; location: string });
    expect(created?.map((d) => [d.datasetReference.datasetId, d.location])).toEqual([
      ['acme_stripe_raw', 'EU'],
      ['acme_stripe_marts', 'EU'],
      ['acme_stripe_elt', 'EU'],
    ]);
    expect(warehouse.loader.exists()).toBe(true);
  });

  it('refuses, on opening and before any load job, a table of ours whose schema is not ours, naming it and the difference', async () => {
    warehouse = await bigqueryWarehouse();
    const client = clientOf(warehouse);
    await client.createDataset('stripe_raw');
    await client.dataset('stripe_raw').createTable('charges', { schema: { fields: [{ name: 'x', type: 'INT64' }] } });
    // What opening says, and the requests it sent that were not reads.
    const opening = async () => {
      const from = warehouse?.fake?.requests.length ?? 0;
      const loader = new BigQueryLoader('test-project', { apiEndpoint: warehouse?.fake?.url ?? '', accessToken: 'test-token' });
      const failure = await loader.open().then(() => 'opened', (error: Error) => error.message);
      return { failure, writes: (warehouse?.fake?.requests ?? []).slice(from).filter((r) => r.method !== 'GET') };
    };
    expect(await opening()).toEqual({
      failure:
        "bigquery:test-project is not a stripe-elt warehouse: its table stripe_raw.charges has other columns than stripe-elt's (it has x INTEGER, which stripe-elt's has not; " +
        'it lacks account_id STRING, id STRING, livemode BOOLEAN, created TIMESTAMP, is_deleted BOOLEAN, observed_at TIMESTAMP, synced_at TIMESTAMP, data JSON). ' +
        "Nothing was written to it; give stripe-elt's datasets another name with --dataset-prefix, or another project.",
      writes: [],
    });
    await client.dataset('stripe_raw').table('charges').delete();
    await client.createDataset('stripe_elt');
    await client.dataset('stripe_elt').createTable('state', { schema: { fields: [{ name: 'stream', type: 'STRING' }, { name: 'state', type: 'STRING' }, { name: 'updated_at', type: 'TIMESTAMP' }] } });
    const bookkeeping = await opening();
    expect(bookkeeping.failure).toMatch(/^bigquery:test-project is not a stripe-elt warehouse: its table stripe_elt\.state has other columns than stripe-elt's \(state is STRING, not JSON\)\./);
    expect(bookkeeping.writes).toEqual([]);
    expect(warehouse.fake?.jobConfigurations('load')).toEqual([]);
  });

  it('says, asked to reset a project that holds no stripe-elt warehouse, that it holds none, and creates no dataset', async () => {
    warehouse = await bigqueryWarehouse();
    await expect(reset(warehouse.loader, [], true)).rejects.toThrow(
      'There is no stripe-elt warehouse at bigquery:test-project: nothing to reset, and nothing was created. Check --warehouse (and, for BigQuery, --dataset-prefix).',
    );
    expect(warehouse.fake?.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('partitions raw tables by the day objects were created, and clusters them by account', async () => {
    warehouse = await bigqueryWarehouse();
    await commit(warehouse.loader, [['customers', customer('cus_1', 100)]]);
    const table = warehouse.fake?.table('stripe_raw', 'customers');
    expect(table?.timePartitioning).toEqual({ type: 'DAY', field: 'created' });
    expect(table?.clustering).toEqual({ fields: ['account_id'] });
    expect(table?.schema.fields.map((f) => `${f.name} ${f.type}${f.mode === 'REQUIRED' ? ' REQUIRED' : ''}`)).toEqual([
      'account_id STRING REQUIRED',
      'id STRING REQUIRED',
      'livemode BOOL',
      'created TIMESTAMP',
      'is_deleted BOOL REQUIRED',
      'observed_at TIMESTAMP REQUIRED',
      'synced_at TIMESTAMP REQUIRED',
      'data JSON REQUIRED',
    ]);
    expect(warehouse.fake?.table('stripe_elt', 'state')?.schema.fields.map((f) => f.name)).toEqual(['stream', 'state', 'updated_at']);
  });

  it('sends a batch up with a load job of newline-delimited JSON into a staging table, never with streaming inserts', async () => {
    warehouse = await bigqueryWarehouse();
    await commit(warehouse.loader, [['customers', customer('cus_1', 100)], ['customers', customer('cus_2', 100)]]);
    const loads = warehouse.fake?.jobConfigurations('load') ?? [];
    expect(loads).toHaveLength(1);
    expect(loads[0]).toMatchObject({
      destinationTable: { projectId: 'test-project', datasetId: 'stripe_elt', tableId: 'batch' },
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      writeDisposition: 'WRITE_TRUNCATE',
    });
    const upload = warehouse.fake?.requests.find((r) => r.upload !== undefined)?.upload ?? '';
    const lines = upload.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; record: { data: { id: string } } });
    expect(lines.map((l) => [l.seq, l.record.data.id])).toEqual([[1, 'cus_1'], [2, 'cus_2']]);
    expect(warehouse.fake?.requests.some((r) => r.path.includes('insertAll'))).toBe(false);
  });

  it('merges, stores the state and sweeps in one transaction, with the state as a query parameter', async () => {
    warehouse = await bigqueryWarehouse();
    const complete = state({ acct_1: { complete: { from: 1, to: 500, since: 500 }, events: { cursor: 500, seen: [] } } });
    await commit(warehouse.loader, [['customers', customer('cus_1', 100)]], { customers: complete });
    const queries = warehouse.fake?.jobConfigurations('query') as { query: string; queryParameters?: { name: string; parameterValue: { value: string } }[] }[];
    const script = queries.find((q) => q.query.startsWith('BEGIN TRANSACTION'));
    expect(script?.query.trim().endsWith('COMMIT TRANSACTION;')).toBe(true);
    expect(script?.query).toMatch(/MERGE INTO `test-project\.stripe_raw\.customers` AS t/);
    expect(script?.query).toMatch(/UPDATE `test-project\.stripe_raw\.customers` SET is_deleted = TRUE/);
    expect(script?.query).toMatch(/MERGE INTO `test-project\.stripe_elt\.state` AS t/);
    const parameter = script?.queryParameters?.find((p) => p.name.startsWith('state_'));
    expect(JSON.parse(parameter?.parameterValue.value ?? '{}')).toEqual(complete);
  });

  it("counts the rows its sweeps marked deleted from the script's child jobs, and asks for them only when it swept", async () => {
    warehouse = await bigqueryWarehouse();
    const base = { created: 1_700_000_000 };
    await commit(warehouse.loader, [['customers', customer('cus_gone', 100, base)], ['customers', customer('cus_gone_too', 100, base)], ['customers', customer('cus_kept', 100, base)]]);
    const listings = () => warehouse?.fake?.requests.filter((r) => r.method === 'GET' && /\/jobs$/.test(r.path)) ?? [];
    expect(listings()).toEqual([]);
    const complete = state({ acct_1: { complete: { from: 1_650_000_000, to: 1_800_000_000, since: 1_800_000_000 }, events: { cursor: 1_800_000_000, seen: [] } } });
    const result = await commit(warehouse.loader, [['customers', customer('cus_kept', 1_800_000_000, base)]], { customers: complete });
    expect(result.swept).toBe(2);
    const scriptId = (warehouse.fake?.requests.filter((r) => r.method === 'POST' && /\/jobs$/.test(r.path)).map((r) => r.body as { configuration: { query: { query: string } }; jobReference: { jobId: string } }).findLast((b) => b.configuration.query.query.startsWith('BEGIN TRANSACTION')))?.jobReference.jobId;
    expect(listings().map((r) => r.query.parentJobId)).toEqual([scriptId]);
  });

  it('lets one load write at a time: another fails, writing nothing, until the first ends or its lease runs out', async () => {
    warehouse = await bigqueryWarehouse();
    const first = warehouse.loader;
    await commit(first, [['customers', customer('cus_first', 100)]], { customers: state({ acct_1: { events: { cursor: 100, seen: [] } } }) });
    const second = new BigQueryLoader('test-project', { apiEndpoint: warehouse.fake?.url ?? '', accessToken: 'test-token' });
    await second.open();
    const refused = commit(second, [['customers', customer('cus_second', 200)]], { customers: state({ acct_1: { events: { cursor: 200, seen: [] } } }) });
    await expect(refused).rejects.toThrow(
      'Another load is writing to bigquery:test-project (it committed less than 15 minutes ago): one writer at a time, and this one wrote nothing. ' +
        'Wait for it to finish; a load that stopped without finishing frees the warehouse 15 minutes after its last commit.',
    );
    expect((await readRows(first, 'customers')).map((r) => r.id)).toEqual(['cus_first']);
    expect((await first.states()).get('customers')?.accounts).toEqual({ acct_1: { events: { cursor: 100, seen: [] } } });
    // The first load ends: the second goes on.
    await first.close();
    await commit(second, [['customers', customer('cus_second', 200)]]);
    expect((await readRows(second, 'customers')).map((r) => r.id)).toEqual(['cus_first', 'cus_second']);
    // The second dies without closing; 16 minutes after its last commit, a third takes over.
    await ageLease(warehouse, 16 * 60);
    const third = new BigQueryLoader('test-project', { apiEndpoint: warehouse.fake?.url ?? '', accessToken: 'test-token' });
    await third.open();
    await commit(third, [['customers', customer('cus_third', 300)]]);
    await expect(commit(second, [['customers', customer('cus_late', 400)]])).rejects.toThrow(/^Another load took bigquery:test-project over after the lease of this one lapsed/);
    expect((await readRows(third, 'customers')).map((r) => r.id)).toEqual(['cus_first', 'cus_second', 'cus_third']);
    await third.close();
  });

  it("refuses the commit of a load whose lease lapsed and was taken over meanwhile, writing nothing: the warehouse keeps the other load's data and mode", async () => {
    warehouse = await bigqueryWarehouse();
    const first = warehouse.loader;
    await commit(first, [['customers', customer('cus_first', 100)]], { customers: state({ acct_1: { events: { cursor: 100, seen: [] } } }) });
    // The first load's lease lapses: its last commit is 16 minutes old.
    await ageLease(warehouse, 16 * 60);
    // Another load takes the warehouse over, empties it, loads live-mode data, and ends.
    const second = new BigQueryLoader('test-project', { apiEndpoint: warehouse.fake?.url ?? '', accessToken: 'test-token' });
    await second.open();
    await second.reset('all');
    const secondState = state({ acct_1: { events: { cursor: 200, seen: [] } } });
    await commit(second, [['customers', { ...customer('cus_second', 200), livemode: true }]], { customers: secondState });
    await second.close();
    // The first load goes on, with the test mode and states it remembers: refused.
    await expect(commit(first, [['customers', customer('cus_late', 300)]], { customers: state({ acct_1: { events: { cursor: 300, seen: [] } } }) })).rejects.toThrow(
      'Another load took bigquery:test-project over after the lease of this one lapsed (its last commit was more than 15 minutes ago), so what this load knew of the ' +
        "warehouse's states and mode no longer holds: this commit wrote nothing. Run it again; it goes on from the warehouse's last commit.",
    );
    const reader = new BigQueryLoader('test-project', { apiEndpoint: warehouse.fake?.url ?? '', accessToken: 'test-token' });
    await reader.open();
    expect((await readRows(reader, 'customers')).map((row) => [row.id, row.livemode])).toEqual([['cus_second', true]]);
    expect(await reader.mode()).toBe('live');
    expect(await reader.states()).toEqual(new Map([['customers', secondState]]));
  });

  it('asks BigQuery for the states and the mode at its first commit only: its own commits are what changes them', async () => {
    warehouse = await bigqueryWarehouse();
    const asked = () => (warehouse?.fake?.queries ?? []).filter((q) => /^SELECT (stream, TO_JSON_STRING\(state\)|key, value FROM)/.test(q)).length;
    await commit(warehouse.loader, [['customers', customer('cus_1', 100)]], { customers: state({ acct_1: { events: { cursor: 100, seen: [] } } }) });
    expect(asked()).toBe(2);
    const complete = state({ acct_1: { complete: { from: 1_650_000_000, to: 1_800_000_000, since: 1_800_000_000 }, events: { cursor: 1_800_000_000, seen: [] } } });
    const result = await commit(warehouse.loader, [['customers', customer('cus_2', 1_800_000_000)]], { customers: complete });
    expect(asked()).toBe(2);
    // What it remembered is what BigQuery holds: the sweep saw the previous state, and cus_1 is gone.
    expect(result.swept).toBe(1);
    expect(await warehouse.loader.mode()).toBe('test');
    expect((await warehouse.loader.states()).get('customers')).toEqual(complete);
    // A reset forgets it.
    await warehouse.loader.reset(['customers']);
    await commit(warehouse.loader, [['customers', customer('cus_3', 100)]]);
    expect(asked()).toBe(6);
  });

  it('sends only SQL that a BigQuery-dialect parser accepts', async () => {
    warehouse = await bigqueryWarehouse();
    await commit(warehouse.loader, [['customers', customer('cus_1', 100)]], { customers: state() });
    await warehouse.loader.states();
    await rowCounts(warehouse.loader.client, warehouse.loader.names);
    await readRows(warehouse.loader, 'customers');
    await warehouse.loader.reset(['customers']);
    const queries = warehouse.fake?.queries ?? [];
    expect(queries.length).toBeGreaterThan(5);
    for (const sql of queries) expect(() => parseSql(sql, { dialect: 'bigquery', paramTypes: ['@name'] }), sql).not.toThrow();
  });

  it('answers refused credentials with a message naming the warehouse and how to fix them', async () => {
    const { BigQueryLoader } = await import('../../connector/loaders/bigquery/bigquery-loader.js');
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const loader = new BigQueryLoader('test-project', { apiEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accessToken: 'expired' });
      await expect(loader.open()).rejects.toThrow(
        /^Cannot open the BigQuery warehouse bigquery:test-project: Request had invalid authentication credentials\..*GOOGLE_APPLICATION_CREDENTIALS/,
      );
    } finally {
      server.close();
    }
  });
});

describe("load's example query for BigQuery", () => {
  it('runs as printed, through stripe-elt query, and counts and sums the charges that are not deleted', async () => {
    warehouse = await bigqueryWarehouse();
    const charge = (id: string, amount: number, extra: Record<string, unknown> = {}) => ({ id, object: 'charge', account_id: 'acct_1', created: 100, observed_at: 100, livemode: false, amount, ...extra });
    await commit(warehouse.loader, [
      ['charges', charge('ch_1', 500)],
      ['charges', charge('ch_2', 700)],
      ['charges', charge('ch_3', 900, { deleted: true })],
    ]);
    const url = warehouse.fake?.url ?? '';
    const example = queryExample(warehouse.loader, ['--bigquery-endpoint', url]);
    const printed = /^stripe-elt query "(.*)" --warehouse bigquery:test-project --bigquery-endpoint (\S+)$/.exec(example);
    expect(printed?.[2]).toBe(url);
    const result = await finishCli(startCli(['query', printed?.[1] ?? '', '--warehouse', 'bigquery:test-project', '--bigquery-endpoint', url, '--format', 'json'], { env: { BIGQUERY_ACCESS_TOKEN: 'test-token' } }));
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('{"account_id":"acct_1","charges":2,"amount":1200}\n');
    expect(result.code).toBe(0);
  });
});
