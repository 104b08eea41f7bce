// The BigQuery warehouse's migrations and ledger (see warehouse/migrations.ts). BigQuery creates
// datasets and tables outside transactions, so a migration is recorded in the ledger once it has
// run; each is idempotent (a table made meanwhile is left as it is), so that one interrupted
// between the two is applied again harmlessly.
import type { TableField } from '@google-cloud/bigquery';
import type { Ledger, LedgerEntry, Migration } from '../../warehouse/migrations.js';
import type { WarehouseNames } from '../loader.js';
import type { BigQueryClient } from './bigquery-client.js';
import { META_FIELDS, MIGRATIONS_FIELDS } from './tables.js';

/** A migration that creates a bookkeeping table; `baseline`: one that stripe-elt 0.1 made without a ledger. */
function createTable(name: string, names: WarehouseNames, table: string, baseline: boolean): Migration<BigQueryClient> {
  const fields = META_FIELDS.get(table) as TableField[];
  return {
    name,
    definition: `CREATE TABLE ${table} ${JSON.stringify(fields)}`,
    up: (client) => client.createTable(names.meta, table, { schema: { fields } }),
    ...(baseline ? { present: async (client: BigQueryClient) => (await client.tableFields(names.meta, table)) !== undefined } : {}),
  };
}

/** In order, with the names of the DuckDB warehouse's (a test holds them equal); a new one comes last. */
export function bigqueryMigrations(names: WarehouseNames): Migration<BigQueryClient>[] {
  return [
    createTable('0001_state', names, 'state', true),
    createTable('0002_settings', names, 'settings', true),
    createTable('0003_model_builds', names, 'model_builds', false),
    createTable('0004_webhook_events', names, 'webhook_events', false),
  ];
}

export class BigQueryLedger implements Ledger<BigQueryClient> {
  readonly warehouse: string;
  readonly table: string;

  constructor(
    readonly target: BigQueryClient,
    private readonly names: WarehouseNames,
  ) {
    this.warehouse = target.description;
    this.table = `${names.meta}.migrations`;
  }

  private get ref(): string {
    return `\`${this.target.project}.${this.names.meta}.migrations\``;
  }

  async exists(): Promise<boolean> {
    return (await this.target.tableFields(this.names.meta, 'migrations')) !== undefined;
  }

  async create(): Promise<void> {
    for (const dataset of [this.names.raw, this.names.marts, this.names.meta]) await this.target.createDataset(dataset);
    await this.target.createTable(this.names.meta, 'migrations', { schema: { fields: MIGRATIONS_FIELDS } });
  }

  async read(): Promise<LedgerEntry[]> {
    const { rows } = await this.target.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${this.ref} ORDER BY applied_at, name`);
    return rows;
  }

  async apply(migration: Migration<BigQueryClient>, checksum: string): Promise<void> {
    await migration.up(this.target);
    await this.record([{ name: migration.name, checksum }]);
  }

  async record(entries: readonly LedgerEntry[]): Promise<void> {
    const params: Record<string, string> = {};
    const rows = entries.map((entry, i) => {
      params[`name_${i}`] = entry.name;
      params[`checksum_${i}`] = entry.checksum;
      return `(@name_${i}, CURRENT_TIMESTAMP(), @checksum_${i})`;
    });
    await this.target.execute(`INSERT INTO ${this.ref} (name, applied_at, checksum) VALUES ${rows.join(', ')}`, params);
  }
}
