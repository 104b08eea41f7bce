// The few differences between the dialects that code writing SQL for either engine needs: how a
// name is quoted, how a relation is named, and which relations a schema (dataset) holds.
import type { Dialect, Session } from './client.js';

/** A name as an identifier of the dialect: "name" in DuckDB, `name` in BigQuery. */
export function quoteName(dialect: Dialect, name: string): string {
  return dialect === 'duckdb' ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
}

/**
 * A relation of a schema (dataset), as SQL names it. BigQuery finds the dataset in the project
 * the client's jobs run in; DuckDB, in the attached file.
 */
export function relationName(dialect: Dialect, schema: string, relation: string): string {
  return `${quoteName(dialect, schema)}.${quoteName(dialect, relation)}`;
}

export interface Relation {
  readonly name: string;
  readonly kind: 'table' | 'view';
}

/** The tables and views of a schema (dataset), by name; none if it does not exist. */
export async function relations(session: Session, schema: string): Promise<Relation[]> {
  const kind = (type: unknown): Relation['kind'] => (String(type).includes('VIEW') ? 'view' : 'table');
  if (session.dialect === 'duckdb') {
    const { rows } = await session.query(
      `SELECT table_name, table_type FROM information_schema.tables
       WHERE table_catalog = current_database() AND table_schema = $schema ORDER BY table_name`,
      { schema },
    );
    return rows.map((row) => ({ name: String(row.table_name), kind: kind(row.table_type) }));
  }
  try {
    const { rows } = await session.query(`SELECT table_name, table_type FROM ${quoteName('bigquery', schema)}.INFORMATION_SCHEMA.TABLES ORDER BY table_name`);
    return rows.map((row) => ({ name: String(row.table_name), kind: kind(row.table_type) }));
  } catch (error) {
    if (/Not found: Dataset/.test((error as Error).message)) return [];
    throw error;
  }
}
