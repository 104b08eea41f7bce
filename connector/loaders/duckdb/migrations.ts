// The DuckDB warehouse's migrations and ledger (see warehouse/migrations.ts). DuckDB's DDL is
// transactional: each migration and its line in the ledger commit together, or not at all.
import type { Session } from '../../warehouse/client.js';
import type { Ledger, LedgerEntry, Migration } from '../../warehouse/migrations.js';
import type { WarehouseNames } from '../loader.js';
import type { DuckDBClient } from './duckdb-client.js';
import { quote } from './sql.js';
import { MIGRATIONS_TABLE, MODEL_BUILDS_TABLE, SETTINGS_TABLE, STATE_TABLE, WEBHOOK_EVENTS_TABLE, createTableStatement, type TableDefinition } from './tables.js';

async function tableExists(session: Session, schema: string, table: string): Promise<boolean> {
  const { rows } = await session.query(
    'SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $schema AND table_name = $table',
    { schema, table },
  );
  return rows[0]?.n === 1n;
}

/** A migration that creates a bookkeeping table; `baseline`: one that stripe-elt 0.1 made without a ledger. */
function createTable(name: string, names: WarehouseNames, table: string, definition: TableDefinition, baseline: boolean): Migration<Session> {
  return {
    name,
    definition: createTableStatement(quote(table), definition),
    up: async (session) => void (await session.execute(createTableStatement(`${quote(names.meta)}.${quote(table)}`, definition))),
    ...(baseline ? { present: (session: Session) => tableExists(session, names.meta, table) } : {}),
  };
}

/** In order; a released migration never changes (its checksum is in warehouses' ledgers), a new one comes last. */
export function duckdbMigrations(names: WarehouseNames): Migration<Session>[] {
  return [
    createTable('0001_state', names, 'state', STATE_TABLE, true),
    createTable('0002_settings', names, 'settings', SETTINGS_TABLE, true),
    createTable('0003_model_builds', names, 'model_builds', MODEL_BUILDS_TABLE, false),
    createTable('0004_webhook_events', names, 'webhook_events', WEBHOOK_EVENTS_TABLE, false),
  ];
}

export class DuckDBLedger implements Ledger<Session> {
  readonly warehouse: string;
  readonly table: string;
  private readonly ref: string;

  constructor(
    private readonly client: DuckDBClient,
    private readonly names: WarehouseNames,
  ) {
    this.warehouse = client.description;
    this.table = `${names.meta}.migrations`;
    this.ref = `${quote(names.meta)}.${quote('migrations')}`;
  }

  get target(): Session {
    return this.client;
  }

  exists(): Promise<boolean> {
    return tableExists(this.client, this.names.meta, 'migrations');
  }

  async create(): Promise<void> {
    for (const schema of [this.names.raw, this.names.marts, this.names.meta]) await this.client.execute(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`);
    await this.client.execute(createTableStatement(this.ref, MIGRATIONS_TABLE));
  }

  async read(): Promise<LedgerEntry[]> {
    const { rows } = await this.client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${this.ref} ORDER BY applied_at, name`);
    return rows;
  }

  private async insert(session: Session, entry: LedgerEntry): Promise<void> {
    await session.execute(`INSERT INTO ${this.ref} (name, applied_at, checksum) VALUES ($name, now(), $checksum)`, { name: entry.name, checksum: entry.checksum });
  }

  async apply(migration: Migration<Session>, checksum: string): Promise<void> {
    await this.client.transaction(async (session) => {
      await migration.up(session);
      await this.insert(session, { name: migration.name, checksum });
    });
  }

  async record(entries: readonly LedgerEntry[]): Promise<void> {
    await this.client.transaction(async (session) => {
      for (const entry of entries) await this.insert(session, entry);
    });
  }
}
