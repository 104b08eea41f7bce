// `--warehouse duckdb:PATH` or `--warehouse bigquery:PROJECT`: which engine, where. A command
// that writes gets the engine's loader, with the client it writes through (commands query the
// warehouse through the same client) and its migrations; `query` gets a client that only reads.
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { WarehouseClient } from '../warehouse/client.js';
import type { MigrationReport } from '../warehouse/migrations.js';
import { sizeInBytes, STRIPE_PACED_DUCKDB } from './duckdb/memory-limit.js';
import { readCopyPath } from './duckdb/read-copy.js';
import type { Loader, WarehouseNames } from './loader.js';

export const DEFAULT_WAREHOUSE = 'duckdb:stripe.duckdb';

export interface WarehouseOptions {
  /** DuckDB: the memory DuckDB may use (such as 256MB, 2GB). */
  readonly duckdbMemoryLimit?: string;
  /** DuckDB: the records come from Stripe in this process (load, sync, serve): STRIPE_PACED_DUCKDB's settings. */
  readonly pacedByStripe?: boolean;
  /** BigQuery: the location of new datasets (default US), where jobs run. */
  readonly location?: string;
  /** BigQuery: a prefix for the dataset names (stripe_raw, stripe_marts, stripe_elt). */
  readonly datasetPrefix?: string;
  /** BigQuery: another API endpoint than Google's (a proxy, or a local endpoint for tests). */
  readonly apiEndpoint?: string;
  /** BigQuery: an OAuth access token to use instead of Application Default Credentials. */
  readonly accessToken?: string;
  /** Told of the migrations a write applies. */
  readonly logger?: Logger;
  /** `query`: told when it reads serve's published copy instead of the warehouse. */
  readonly onNote?: (sentence: string) => void;
}

/**
 * A warehouse to write to: its loader (the port), and beside it what other commands use. Opening
 * the loader opens the client; closing it closes the client.
 */
export interface Warehouse extends Loader {
  /** The client the loader writes through, once it is open. */
  readonly client: WarehouseClient;
  /** The schemas (datasets) of this warehouse: stripe_raw, stripe_marts, stripe_elt, with any prefix. */
  readonly names: WarehouseNames;
  /** Applies the migrations the warehouse lacks (a command's first write does, before writing); the result of each. */
  migrate(): Promise<MigrationReport>;
}

type Target = { readonly engine: 'duckdb'; readonly path: string } | { readonly engine: 'bigquery'; readonly project: string };

function target(spec: string, options: WarehouseOptions): Target {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  if (kind === 'duckdb') {
    if (!rest) throw new UserError('--warehouse duckdb:PATH needs a file path, such as duckdb:stripe.duckdb.');
    const limit = options.duckdbMemoryLimit;
    if (limit !== undefined && sizeInBytes(limit) === null) {
      throw new UserError(`--duckdb-memory-limit ${limit}: give a size such as 256MB or 2GB.`, 'config_error');
    }
    return { engine: 'duckdb', path: rest };
  }
  if (kind === 'bigquery') {
    if (!rest) throw new UserError('--warehouse bigquery:PROJECT needs a Google Cloud project id.');
    return { engine: 'bigquery', project: rest };
  }
  throw new UserError(`--warehouse ${spec}: use duckdb:PATH (the default is ${DEFAULT_WAREHOUSE}) or bigquery:PROJECT.`);
}

/** The warehouse to write to; `open()` it. */
export async function openWarehouse(spec: string, options: WarehouseOptions = {}): Promise<Warehouse> {
  const where = target(spec, options);
  // Imported when asked for: spec, check, discover and read do without DuckDB's native library.
  if (where.engine === 'duckdb') {
    const { DuckDBLoader } = await import('./duckdb/duckdb-loader.js');
    const paced = options.pacedByStripe ? STRIPE_PACED_DUCKDB : undefined;
    const memoryLimit = options.duckdbMemoryLimit ?? paced?.memoryLimit;
    return new DuckDBLoader(where.path, { ...(memoryLimit ? { memoryLimit } : {}), ...(paced ? { threads: paced.threads } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  }
  const { BigQueryLoader } = await import('./bigquery/bigquery-loader.js');
  return new BigQueryLoader(where.project, options);
}

/**
 * An open client that only reads the warehouse: a DuckDB file opened read-only (it must exist), a
 * BigQuery project's jobs in `location` (or where the tables a query names are).
 */
export async function openReader(spec: string, options: WarehouseOptions = {}): Promise<WarehouseClient> {
  const where = target(spec, options);
  if (where.engine === 'duckdb') {
    if (!existsSync(where.path)) throw new UserError(`There is no DuckDB warehouse at ${where.path}: check --warehouse duckdb:PATH (a query opens a warehouse that a load made; it creates none).`);
    if (statSync(where.path).isDirectory()) throw new UserError(`${where.path} is a folder, not a DuckDB database file: give a file's path with --warehouse duckdb:PATH.`);
    const { DuckDBClient } = await import('./duckdb/duckdb-client.js');
    const readOnly = { readOnly: true, ...(options.duckdbMemoryLimit ? { memoryLimit: options.duckdbMemoryLimit } : {}) };
    try {
      return await DuckDBClient.open(where.path, readOnly);
    } catch (error) {
      // Held by a writer (serve): its published copy answers instead, saying how old it is.
      const copy = readCopyPath(where.path);
      const held = error instanceof UserError && error.failureType === 'transient_error';
      if (!held || !existsSync(copy)) throw error;
      options.onNote?.(`${where.path} is being written to; reading the copy serve published at ${statSync(copy).mtime.toISOString()}, ${copy}.`);
      return DuckDBClient.open(copy, readOnly);
    }
  }
  const { BigQueryClient } = await import('./bigquery/bigquery-client.js');
  return new BigQueryClient(where.project, {
    readOnly: true,
    ...(options.location ? { location: options.location } : {}),
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    ...(options.accessToken ? { accessToken: options.accessToken } : {}),
  });
}
