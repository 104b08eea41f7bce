// Whether an existing DuckDB file is a stripe-elt warehouse, read from its catalog before anything
// is written to it. A file is ours if it holds no table or view at all (a new database), or if
// it has a table in the bookkeeping schema `stripe_elt`; and then every table of ours that it
// holds (the bookkeeping tables of tables.ts, stripe_raw.<stream>) has exactly our columns and
// types. Anything else is another program's data, refused with the table and the difference.
// (A migration that changes a table's columns changes its definition there: the check must then
// accept the columns it had before, which the migration upgrades at the first write.)
import { isStreamName } from '../../streams/catalog.js';
import type { Session } from '../../warehouse/client.js';
import type { WarehouseNames } from '../loader.js';
import { columnDifferences, notOurs, otherColumns } from '../table-check.js';
import { META_TABLES, RAW_TABLE, type TableDefinition } from './tables.js';

/** What an accepted file holds of ours. */
export interface WarehouseCatalog {
  /** The raw tables, by stream. */
  readonly rawTables: ReadonlySet<string>;
  /** The tables of the bookkeeping schema. */
  readonly metaTables: ReadonlySet<string>;
}

interface Relation {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'table' | 'view';
}

/** A few names of a list, for a sentence. */
function some(items: readonly string[], shown = 3): string {
  return items.length > shown ? `${items.slice(0, shown).join(', ')} and ${items.length - shown} more` : items.join(', ');
}

/** How a table's columns and key differ from ours, in words; empty if they do not. */
function differences(columns: ReadonlyMap<string, string>, primaryKey: readonly string[], table: TableDefinition): string[] {
  const out = columnDifferences(columns, new Map(table.columns.map((c) => [c.name, c.type])));
  if (table.primaryKey && columns.has(table.primaryKey) && (primaryKey.length !== 1 || primaryKey[0] !== table.primaryKey)) out.push(`its primary key is not ${table.primaryKey}`);
  return out;
}

export async function checkCatalog(db: Session, names: WarehouseNames, path: string): Promise<WarehouseCatalog> {
  const here = 'database_name = current_database()';
  const relations = (
    await db.query(
      `SELECT schema_name, table_name AS name, 'table' AS kind FROM duckdb_tables() WHERE ${here}
       UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() WHERE ${here} AND NOT internal
       ORDER BY 1, 2`,
    )
  ).rows.map((row): Relation => ({ schema: String(row.schema_name), name: String(row.name), kind: row.kind === 'view' ? 'view' : 'table' }));
  const ourSchemas = { raw: names.raw, meta: names.meta };
  const inOurSchemas = 'schema_name IN ($raw, $meta)';
  const columns = new Map<string, Map<string, string>>();
  for (const row of (await db.query(`SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() WHERE ${here} AND ${inOurSchemas} ORDER BY column_index`, ourSchemas)).rows) {
    const key = `${String(row.schema_name)}.${String(row.table_name)}`;
    if (!columns.has(key)) columns.set(key, new Map());
    columns.get(key)?.set(String(row.column_name), String(row.data_type));
  }
  const keys = new Map<string, string[]>();
  const constraints = `SELECT schema_name, table_name, constraint_column_names FROM duckdb_constraints() WHERE ${here} AND ${inOurSchemas} AND constraint_type = 'PRIMARY KEY'`;
  for (const row of (await db.query(constraints, ourSchemas)).rows) {
    keys.set(`${String(row.schema_name)}.${String(row.table_name)}`, (row.constraint_column_names as string[]).map(String));
  }

  const instead = 'give another path with --warehouse duckdb:PATH';
  const ours = (relation: Relation): TableDefinition | undefined =>
    relation.schema === names.raw && isStreamName(relation.name) ? RAW_TABLE : relation.schema === names.meta ? META_TABLES.get(relation.name) : undefined;
  for (const relation of relations) {
    const table = ours(relation);
    if (!table) continue;
    const name = `${relation.schema}.${relation.name}`;
    if (relation.kind === 'view') throw notOurs(path, `${name} is a view, where stripe-elt keeps a table`, instead);
    const found = differences(columns.get(name) ?? new Map(), keys.get(name) ?? [], table);
    if (found.length > 0) throw otherColumns(path, name, found, instead);
  }
  const metaTables = new Set(relations.filter((r) => r.schema === names.meta).map((r) => r.name));
  if (relations.length > 0 && metaTables.size === 0) {
    const named = relations.map((r) => `${r.schema}.${r.name}`);
    throw notOurs(path, `it holds other data (${named.length} ${named.length === 1 ? 'table or view' : 'tables and views'}: ${some(named)}) and no stripe-elt bookkeeping (the ${names.meta} schema)`, instead);
  }
  return { rawTables: new Set(relations.filter((r) => r.schema === names.raw && isStreamName(r.name)).map((r) => r.name)), metaTables };
}
