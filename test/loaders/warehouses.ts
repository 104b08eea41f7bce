// The warehouses the loader tests run on: DuckDB in a temporary file, and BigQuery through the
// local endpoint that plays its REST API (test/bigquery-fake); and what the tests read back of
// them, through the warehouse's client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchFile } from '../../connector/loaders/batch.js';
import { BigQueryLoader } from '../../connector/loaders/bigquery/bigquery-loader.js';
import { DuckDBLoader } from '../../connector/loaders/duckdb/duckdb-loader.js';
import type { Loader, ReceivedEvent, WarehouseNames } from '../../connector/loaders/loader.js';
import type { Warehouse } from '../../connector/loaders/warehouse.js';
import { STREAM_NAMES, type StreamName } from '../../connector/streams/catalog.js';
import { Json, type Row, type Session } from '../../connector/warehouse/client.js';
import { relationName, relations } from '../../connector/warehouse/dialect.js';
import { objectKey, type Data } from '../connector/helpers.js';
import type { StreamState } from '../../connector/sync/state.js';
import { FakeBigQuery } from '../bigquery-fake/server.js';

export interface TestWarehouse {
  readonly loader: Warehouse;
  /** The local BigQuery endpoint, for the BigQuery warehouse. */
  readonly fake?: FakeBigQuery;
  close(): Promise<void>;
}

export async function duckdbWarehouse(): Promise<TestWarehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-duckdb-'));
  const loader = new DuckDBLoader(join(dir, 'warehouse.duckdb'));
  await loader.open();
  return {
    loader,
    close: async () => {
      await loader.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function bigqueryWarehouse(options: { datasetPrefix?: string; location?: string } = {}): Promise<TestWarehouse> {
  const fake = new FakeBigQuery();
  const url = await fake.start();
  const loader = new BigQueryLoader('test-project', { apiEndpoint: url, accessToken: 'test-token', ...options });
  await loader.open();
  return {
    loader,
    fake,
    close: async () => {
      await loader.close();
      await fake.close();
    },
  };
}

export const WAREHOUSES: readonly [string, () => Promise<TestWarehouse>][] = [
  ['DuckDB', duckdbWarehouse],
  ['BigQuery', () => bigqueryWarehouse()],
];

/** A record as `read` prints it. */
export function record(stream: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type: 'RECORD', record: { stream, data, emitted_at: 1_800_000_000_000 }, });
}

/** A customer of acct_1, observed at `observedAt`. */
export function customer(id: string, observedAt: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, object: 'customer', created: 1_700_000_000, livemode: false, email: `${id}@example.com`, account_id: 'acct_1', observed_at: observedAt, ...extra };
}

export async function batchOf(lines: readonly [StreamName, Record<string, unknown>][]): Promise<BatchFile> {
  const batch = new BatchFile();
  for (const [stream, data] of lines) await batch.addLine(record(stream, data), stream);
  await batch.seal();
  return batch;
}

export function state(partitions: Record<string, unknown> = {}): StreamState {
  return { version: 2, accounts: partitions } as StreamState;
}

export async function commit(loader: Loader, lines: readonly [StreamName, Record<string, unknown>][], states: Record<string, StreamState> = {}, received: readonly ReceivedEvent[] = []) {
  const batch = await batchOf(lines);
  try {
    return await loader.commit(batch, new Map(Object.entries(states)) as Map<StreamName, StreamState>, received);
  } finally {
    batch.discard();
  }
}

export function byId(rows: readonly RawRow[]): Map<string, RawRow> {
  return new Map(rows.map((row) => [row.id, row]));
}

/** A raw table's row, as the tests read it back. */
export interface RawRow {
  readonly account_id: string;
  readonly id: string;
  readonly livemode: boolean | null;
  readonly is_deleted: boolean;
  /** Unix seconds. */
  readonly created: number | null;
  readonly observed_at: number;
  readonly data: Record<string, unknown>;
}

/** What reads a warehouse back: its client, and the names of its schemas (a loader has both). */
export interface Readable {
  readonly client: Session;
  readonly names: WarehouseNames;
}

const seconds = (timestamp: unknown) => Date.parse(String(timestamp)) / 1000;

function rawRow(row: Row): RawRow {
  return {
    account_id: String(row.account_id),
    id: String(row.id),
    livemode: row.livemode === null ? null : Boolean(row.livemode),
    is_deleted: Boolean(row.is_deleted),
    created: row.created === null ? null : seconds(row.created),
    observed_at: seconds(row.observed_at),
    data: (row.data as Json).parse() as Record<string, unknown>,
  };
}

/** Every row of a raw table, in (account_id, id) order; none if it has no table. */
export async function readRows(warehouse: Readable, stream: StreamName): Promise<RawRow[]> {
  const { client, names } = warehouse;
  if (!(await relations(client, names.raw)).some((relation) => relation.name === stream)) return [];
  const { rows } = await client.query(
    `SELECT account_id, id, livemode, is_deleted, created, observed_at, data FROM ${relationName(client.dialect, names.raw, stream)} ORDER BY account_id, id`,
  );
  return rows.map(rawRow);
}

/** The warehouse's raw tables, as objects with their deleted flag. */
export async function warehouseView(warehouse: Readable): Promise<Map<string, { stream: string; data: Data }>> {
  const view = new Map<string, { stream: string; data: Data }>();
  for (const stream of STREAM_NAMES) {
    for (const row of await readRows(warehouse, stream)) {
      const data = { ...row.data } as Data;
      if (row.is_deleted) data.deleted = true;
      else delete data.deleted;
      view.set(objectKey(stream, row.account_id, row.id), { stream, data });
    }
  }
  return view;
}

/** Opens a loader, which must refuse: the sentence it was refused with. */
export async function openingRefusal(loader: Loader): Promise<string> {
  try {
    await loader.open();
  } catch (error) {
    return (error as Error).message;
  } finally {
    await loader.close();
  }
  throw new Error(`${loader.description} was opened`);
}

/** Opens the DuckDB warehouse at `path` for `use`, and closes it whatever happens. */
export async function withDuckDB<T>(path: string, use: (loader: DuckDBLoader) => Promise<T>): Promise<T> {
  const loader = new DuckDBLoader(path);
  await loader.open();
  try {
    return await use(loader);
  } finally {
    await loader.close();
  }
}
