// `--warehouse duckdb:PATH` or `--warehouse bigquery:PROJECT`: which loader, where.
import { UserError } from '../errors.js';
import { sizeInBytes } from './duckdb/memory-limit.js';
import type { Loader } from './loader.js';

export const DEFAULT_WAREHOUSE = 'duckdb:stripe.duckdb';

export interface WarehouseOptions {
  /** DuckDB: the memory DuckDB may use (such as 256MB, 2GB). */
  readonly duckdbMemoryLimit?: string;
  /** BigQuery: the location of new datasets (default US). */
  readonly location?: string;
  /** BigQuery: a prefix for the dataset names (stripe_raw, stripe_marts, stripe_elt). */
  readonly datasetPrefix?: string;
  /** BigQuery: another API endpoint than Google's (a proxy, or a local endpoint for tests). */
  readonly apiEndpoint?: string;
  /** BigQuery: an OAuth access token to use instead of Application Default Credentials. */
  readonly accessToken?: string;
}

export async function openWarehouse(spec: string, options: WarehouseOptions = {}): Promise<Loader> {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const target = colon < 0 ? '' : spec.slice(colon + 1);
  if (kind === 'duckdb') {
    if (!target) throw new UserError('--warehouse duckdb:PATH needs a file path, such as duckdb:stripe.duckdb.');
    const limit = options.duckdbMemoryLimit;
    if (limit !== undefined && sizeInBytes(limit) === null) {
      throw new UserError(`--duckdb-memory-limit ${limit}: give a size such as 256MB or 2GB.`, 'config_error');
    }
    // Imported when asked for: spec, check, discover and read do without DuckDB's native library.
    const { DuckDBLoader } = await import('./duckdb/duckdb-loader.js');
    return new DuckDBLoader(target, limit);
  }
  if (kind === 'bigquery') {
    if (!target) throw new UserError('--warehouse bigquery:PROJECT needs a Google Cloud project id.');
    const { BigQueryLoader } = await import('./bigquery/bigquery-loader.js');
    return new BigQueryLoader(target, options);
  }
  throw new UserError(`--warehouse ${spec}: use duckdb:PATH (the default is ${DEFAULT_WAREHOUSE}) or bigquery:PROJECT.`);
}
