// The tables stripe-elt keeps in a BigQuery warehouse, as their schemas: the migrations and the
// loader create them from these, and opening checks that the existing ones are these.
import type { TableField } from '@google-cloud/bigquery';

export const RAW_FIELDS: TableField[] = [
  { name: 'account_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'livemode', type: 'BOOL' },
  { name: 'created', type: 'TIMESTAMP' },
  { name: 'is_deleted', type: 'BOOL', mode: 'REQUIRED' },
  { name: 'observed_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'synced_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'data', type: 'JSON', mode: 'REQUIRED' },
];

const STATE_FIELDS: TableField[] = [
  { name: 'stream', type: 'STRING', mode: 'REQUIRED' },
  { name: 'state', type: 'JSON', mode: 'REQUIRED' },
  { name: 'updated_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

const SETTINGS_FIELDS: TableField[] = [
  { name: 'key', type: 'STRING', mode: 'REQUIRED' },
  { name: 'value', type: 'STRING', mode: 'REQUIRED' },
];

/** The ledger of the migrations applied (see warehouse/migrations.ts). */
export const MIGRATIONS_FIELDS: TableField[] = [
  { name: 'name', type: 'STRING', mode: 'REQUIRED' },
  { name: 'applied_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'checksum', type: 'STRING', mode: 'REQUIRED' },
];

/** The transform runner's ledger: one row per build of a model (see the DuckDB table in duckdb/tables.ts). */
const MODEL_BUILDS_FIELDS: TableField[] = [
  { name: 'model', type: 'STRING', mode: 'REQUIRED' },
  { name: 'version', type: 'STRING', mode: 'REQUIRED' },
  { name: 'checksum', type: 'STRING', mode: 'REQUIRED' },
  { name: 'started_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'finished_at', type: 'TIMESTAMP' },
  { name: 'rows_affected', type: 'INT64' },
  { name: 'outcome', type: 'STRING', mode: 'REQUIRED' },
  { name: 'message', type: 'STRING' },
];

/** The events `serve` received and committed, by id (see the DuckDB table in duckdb/tables.ts). */
const WEBHOOK_EVENTS_FIELDS: TableField[] = [
  { name: 'id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'account_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'type', type: 'STRING', mode: 'REQUIRED' },
  { name: 'created', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'received_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

/** The bookkeeping tables of the meta dataset, by name. */
export const META_FIELDS: ReadonlyMap<string, TableField[]> = new Map([
  ['state', STATE_FIELDS],
  ['settings', SETTINGS_FIELDS],
  ['migrations', MIGRATIONS_FIELDS],
  ['model_builds', MODEL_BUILDS_FIELDS],
  ['webhook_events', WEBHOOK_EVENTS_FIELDS],
]);

/** The names the API gives the types in a table's schema (BOOL is BOOLEAN, INT64 is INTEGER). */
const LEGACY_TYPES: Record<string, string> = { BOOL: 'BOOLEAN', INT64: 'INTEGER', FLOAT64: 'FLOAT', STRUCT: 'RECORD' };

/** A schema's fields, name to type, in the API's names. */
export function fieldTypes(fields: readonly TableField[]): Map<string, string> {
  return new Map(fields.map((f) => [String(f.name), LEGACY_TYPES[String(f.type).toUpperCase()] ?? String(f.type).toUpperCase()]));
}
