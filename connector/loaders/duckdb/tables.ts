// The tables stripe-elt keeps in a DuckDB warehouse, as data: the statements that create them and
// the check that an existing file's tables are these (catalog-check.ts) read the same definitions.
import { quote } from './sql.js';

export interface ColumnDefinition {
  readonly name: string;
  /** As DuckDB names the type in its catalog (duckdb_columns().data_type). */
  readonly type: string;
  readonly notNull?: boolean;
  readonly compression?: string;
}

export interface TableDefinition {
  readonly columns: readonly ColumnDefinition[];
  readonly primaryKey?: string;
}

const TIMESTAMPTZ = 'TIMESTAMP WITH TIME ZONE';

/**
 * A raw table: one row per object. `data` is compressed with FSST, which DuckDB picks for it
 * anyway: naming it spares DuckDB trying every other method on each segment it writes (a load of
 * 1.26M records: 3 s of 42).
 */
export const RAW_TABLE: TableDefinition = {
  columns: [
    { name: 'account_id', type: 'VARCHAR', notNull: true },
    { name: 'id', type: 'VARCHAR', notNull: true },
    { name: 'livemode', type: 'BOOLEAN' },
    { name: 'created', type: TIMESTAMPTZ },
    { name: 'is_deleted', type: 'BOOLEAN', notNull: true },
    { name: 'observed_at', type: TIMESTAMPTZ, notNull: true },
    { name: 'synced_at', type: TIMESTAMPTZ, notNull: true },
    { name: 'data', type: 'JSON', notNull: true, compression: 'fsst' },
  ],
};

/** `stripe_elt.state`: each stream's state, as `read` prints it. */
export const STATE_TABLE: TableDefinition = {
  columns: [
    { name: 'stream', type: 'VARCHAR' },
    { name: 'state', type: 'JSON', notNull: true },
    { name: 'updated_at', type: TIMESTAMPTZ, notNull: true },
  ],
  primaryKey: 'stream',
};

/** `stripe_elt.settings`: the mode of the data held. */
export const SETTINGS_TABLE: TableDefinition = {
  columns: [
    { name: 'key', type: 'VARCHAR' },
    { name: 'value', type: 'VARCHAR', notNull: true },
  ],
  primaryKey: 'key',
};

/** `stripe_elt.migrations`: the ledger of the migrations applied (see warehouse/migrations.ts). */
export const MIGRATIONS_TABLE: TableDefinition = {
  columns: [
    { name: 'name', type: 'VARCHAR' },
    { name: 'applied_at', type: TIMESTAMPTZ, notNull: true },
    { name: 'checksum', type: 'VARCHAR', notNull: true },
  ],
  primaryKey: 'name',
};

/**
 * `stripe_elt.model_builds`: the transform runner's ledger, one row per build of a model: its
 * version, the checksum of its rendered SQL, when it started and finished, the rows it wrote (none
 * for a view), and its outcome (built, failed, skipped) with the database's message.
 */
export const MODEL_BUILDS_TABLE: TableDefinition = {
  columns: [
    { name: 'model', type: 'VARCHAR', notNull: true },
    { name: 'version', type: 'VARCHAR', notNull: true },
    { name: 'checksum', type: 'VARCHAR', notNull: true },
    { name: 'started_at', type: TIMESTAMPTZ, notNull: true },
    { name: 'finished_at', type: TIMESTAMPTZ },
    { name: 'rows_affected', type: 'BIGINT' },
    { name: 'outcome', type: 'VARCHAR', notNull: true },
    { name: 'message', type: 'VARCHAR' },
  ],
};

/**
 * `stripe_elt.webhook_events`: the events `serve` received and committed, by id, so that Stripe's
 * retries and duplicate deliveries of one event are recognised and ignored. Kept 30 days (events
 * Stripe delivers are at most three days old).
 */
export const WEBHOOK_EVENTS_TABLE: TableDefinition = {
  columns: [
    { name: 'id', type: 'VARCHAR' },
    { name: 'account_id', type: 'VARCHAR', notNull: true },
    { name: 'type', type: 'VARCHAR', notNull: true },
    { name: 'created', type: TIMESTAMPTZ, notNull: true },
    { name: 'received_at', type: TIMESTAMPTZ, notNull: true },
  ],
  primaryKey: 'id',
};

/** The bookkeeping tables of the `stripe_elt` schema, by name. */
export const META_TABLES: ReadonlyMap<string, TableDefinition> = new Map([
  ['state', STATE_TABLE],
  ['settings', SETTINGS_TABLE],
  ['migrations', MIGRATIONS_TABLE],
  ['model_builds', MODEL_BUILDS_TABLE],
  ['webhook_events', WEBHOOK_EVENTS_TABLE],
]);

export function createTableStatement(qualifiedName: string, table: TableDefinition): string {
  const columns = table.columns.map(
    (c) => `${quote(c.name)} ${c.type}${c.name === table.primaryKey ? ' PRIMARY KEY' : ''}${c.notNull ? ' NOT NULL' : ''}${c.compression ? ` USING COMPRESSION ${c.compression}` : ''}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName} (${columns.join(', ')})`;
}
