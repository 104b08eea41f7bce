// The warehouses the loader tests run on: DuckDB in a temporary file, and BigQuery through the
// local endpoint that plays its REST API (test/bigquery-fake).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchFile } from '../../connector/loaders/batch.js';
import { BigQueryLoader } from '../../connector/loaders/bigquery/bigquery-loader.js';
import { DuckDBLoader } from '../../connector/loaders/duckdb/duckdb-loader.js';
import type { Loader, RawRow } from '../../connector/loaders/loader.js';
import { STREAM_NAMES, type StreamName } from '../../connector/streams/catalog.js';
import { objectKey, type Data } from '../connector/helpers.js';
import type { StreamState } from '../../connector/sync/state.js';
import { FakeBigQuery } from '../bigquery-fake/server.js';

export interface TestWarehouse {
  readonly loader: Loader;
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

export async function commit(loader: Loader, lines: readonly [StreamName, Record<string, unknown>][], states: Record<string, StreamState> = {}) {
  const batch = await batchOf(lines);
  try {
    return await loader.commit(batch, new Map(Object.entries(states)) as Map<StreamName, StreamState>);
  } finally {
    batch.discard();
  }
}

export function byId(rows: readonly RawRow[]): Map<string, RawRow> {
  return new Map(rows.map((row) => [row.id, row]));
}

/** The warehouse's raw tables, as objects with their deleted flag. */
export async function warehouseView(loader: Loader): Promise<Map<string, { stream: string; data: Data }>> {
  const view = new Map<string, { stream: string; data: Data }>();
  for (const stream of STREAM_NAMES) {
    for (const row of await loader.readRows(stream)) {
      const data = { ...row.data } as Data;
      if (row.is_deleted) data.deleted = true;
      else delete data.deleted;
      view.set(objectKey(stream, row.account_id, row.id), { stream, data });
    }
  }
  return view;
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
