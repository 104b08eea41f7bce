// The SQL the runner writes itself, per engine: how a relation is named, and the statements of
// each materialization (views, tables, incremental merge, delete+insert and append), as
// dbt-duckdb and dbt-bigquery write them. Model SQL never comes here: its dialect lives in the
// project's macros.
import type { Dialect, Relation } from './render.js';

export interface SqlDialect {
  readonly type: Dialect;
  relation(schema: string, identifier: string): Relation;
  /** Creates the schema (dataset) a relation lives in. */
  createSchema(relation: Relation): string;
  drop(relation: Relation, kind: 'table' | 'view'): string;
  createView(relation: Relation, sql: string): string;
  createTable(relation: Relation, sql: string): string;
  /** The statements that merge `sql`'s rows into `target` by `keys` (columns: the target's). */
  incremental(strategy: 'merge' | 'delete+insert' | 'append', target: Relation, sql: string, keys: readonly string[], columns: readonly string[]): string[];
  /** A seed's table, its columns typed, filled with its rows (values already SQL literals). */
  seed(relation: Relation, columns: readonly { name: string; type: string }[], rows: readonly string[][]): string[];
  /** A literal of a string. */
  string(text: string): string;
  /** The column types a seed's inferred types (integer, decimal, boolean, date, text) take. */
  readonly seedTypes: Readonly<Record<'integer' | 'decimal' | 'boolean' | 'date' | 'timestamp' | 'text', string>>;
}

function duckQuote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

const TMP = '__stripe_elt_tmp';

/** DuckDB: relations without a catalog, so that a view reads the file under any name a client gives it. */
export const duckdb: SqlDialect = {
  type: 'duckdb',
  relation: (schema, identifier) => ({ schema, identifier, rendered: `${duckQuote(schema)}.${duckQuote(identifier)}` }),
  createSchema: (relation) => `create schema if not exists ${duckQuote(relation.schema)}`,
  drop: (relation, kind) => `drop ${kind} if exists ${relation.rendered}`,
  createView: (relation, sql) => `create or replace view ${relation.rendered} as (\n${sql}\n)`,
  createTable: (relation, sql) => `create or replace table ${relation.rendered} as (\n${sql}\n)`,
  incremental(strategy, target, sql, keys, columns) {
    const tmp = duckQuote(TMP);
    const load = `create or replace temp table ${tmp} as (\n${sql}\n)`;
    const on = keys.map((k) => `t.${duckQuote(k)} = s.${duckQuote(k)}`).join(' and ');
    const insertAll = `insert into ${target.rendered} by name select * from ${tmp}`;
    const statements = [load];
    if (strategy === 'append' || keys.length === 0) statements.push(insertAll);
    else if (strategy === 'delete+insert') {
      statements.push(`delete from ${target.rendered} as t where exists (select 1 from ${tmp} as s where ${on})`, insertAll);
    } else {
      const cols = columns.map(duckQuote);
      statements.push(
        `merge into ${target.rendered} as t using ${tmp} as s on (${on})
         when matched then update set ${cols.map((c) => `${c} = s.${c}`).join(', ')}
         when not matched then insert (${cols.join(', ')}) values (${cols.map((c) => `s.${c}`).join(', ')})`,
      );
    }
    statements.push(`drop table if exists ${tmp}`);
    return statements;
  },
  seed(relation, columns, rows) {
    const create = `create or replace table ${relation.rendered} (${columns.map((c) => `${duckQuote(c.name)} ${c.type}`).join(', ')})`;
    const inserts = chunk(rows, 500).map((part) => `insert into ${relation.rendered} values ${part.map((r) => `(${r.join(', ')})`).join(', ')}`);
    return [create, ...inserts];
  },
  string: (text) => `'${text.replaceAll("'", "''")}'`,
  seedTypes: { integer: 'bigint', decimal: 'double', boolean: 'boolean', date: 'date', timestamp: 'timestamp', text: 'varchar' },
};

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function bqQuote(identifier: string): string {
  return `\`${identifier.replaceAll('`', '\\`')}\``;
}

/**
 * BigQuery: `dataset`.`table`, in the project the client's jobs run in (as the loader names its
 * tables). A dataset prefix is the project's business: sql/ adds its `schema_prefix` var to
 * every schema it names.
 */
export const bigquery: SqlDialect = {
  type: 'bigquery',
  relation: (schema, identifier) => ({ schema, identifier, rendered: `${bqQuote(schema)}.${bqQuote(identifier)}` }),
  createSchema: (relation) => `CREATE SCHEMA IF NOT EXISTS ${bqQuote(relation.schema)}`,
  drop: (relation, kind) => `DROP ${kind.toUpperCase()} IF EXISTS ${relation.rendered}`,
  createView: (relation, sql) => `CREATE OR REPLACE VIEW ${relation.rendered} AS (\n${sql}\n)`,
  createTable: (relation, sql) => `CREATE OR REPLACE TABLE ${relation.rendered} AS (\n${sql}\n)`,
  incremental(strategy, target, sql, keys, columns) {
    // One script: its temporary table lives as long as the script.
    const tmp = bqQuote(TMP);
    const on = keys.map((k) => `t.${bqQuote(k)} = s.${bqQuote(k)}`).join(' AND ');
    const cols = columns.map(bqQuote);
    const insertAll = `INSERT INTO ${target.rendered} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${tmp}`;
    const body = [`CREATE TEMP TABLE ${tmp} AS (\n${sql}\n)`];
    if (strategy === 'append' || keys.length === 0) body.push(insertAll);
    else if (strategy === 'delete+insert') body.push(`DELETE FROM ${target.rendered} AS t WHERE EXISTS (SELECT 1 FROM ${tmp} AS s WHERE ${on})`, insertAll);
    else {
      body.push(
        `MERGE INTO ${target.rendered} AS t USING ${tmp} AS s ON ${on}
         WHEN MATCHED THEN UPDATE SET ${cols.map((c) => `${c} = s.${c}`).join(', ')}
         WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `s.${c}`).join(', ')})`,
      );
    }
    // BigQuery drops a script's temporary table at its end; said here, so that it is plain.
    body.push(`DROP TABLE IF EXISTS ${tmp}`);
    return [`${body.join(';\n')};`];
  },
  seed(relation, columns, rows) {
    const create = `CREATE OR REPLACE TABLE ${relation.rendered} (${columns.map((c) => `${bqQuote(c.name)} ${c.type}`).join(', ')})`;
    const inserts = chunk(rows, 500).map((part) => `INSERT INTO ${relation.rendered} VALUES ${part.map((r) => `(${r.join(', ')})`).join(', ')}`);
    return [create, ...inserts];
  },
  string: (text) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`,
  seedTypes: { integer: 'INT64', decimal: 'FLOAT64', boolean: 'BOOL', date: 'DATE', timestamp: 'TIMESTAMP', text: 'STRING' },
};
