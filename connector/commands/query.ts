// `query "SQL"`: a read-only query through the warehouse client, so that the README's examples run
// on a machine with nothing but stripe-elt (no DuckDB CLI, no bq). The client refuses writes: a
// DuckDB file is opened read-only, and BigQuery runs only what a dry run says is a query. The
// rows print as an aligned table (for a person), CSV or JSON lines (for programs), their values
// exact: integers of any size and decimals as their digits, timestamps in ISO 8601, JSON as JSON.
import { UserError } from '../errors.js';
import { Decimal, Json, ReadOnlyRefusal, type QueryResult, type Value, type WarehouseClient } from '../warehouse/client.js';

export const QUERY_FORMATS = ['table', 'csv', 'json'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

/** An engine's error as one sentence: its first lines, up to the SQL it quotes. */
function sentence(message: string): string {
  const lines = message.split('\n').map((line) => line.trim());
  const end = lines.findIndex((line) => line === '' || /^LINE \d+:/.test(line));
  const text = lines.slice(0, end < 0 ? undefined : end).join(' ');
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Runs the query; a refusal or failure is one sentence. */
export async function runQuery(client: Pick<WarehouseClient, 'query' | 'dialect' | 'description'>, sql: string): Promise<QueryResult> {
  if (sql.trim() === '') throw new UserError('Give the query to run, such as stripe-elt query "SELECT count(*) FROM stripe_raw.charges".');
  try {
    return await client.query(sql);
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (error instanceof ReadOnlyRefusal) {
      throw new UserError(`stripe-elt query only reads, and this is ${/^[AEIOU]/.test(error.statementType) ? 'an' : 'a'} ${error.statementType} statement: nothing was written to ${client.description}.`);
    }
    throw new UserError(`The query failed on ${client.description}: ${sentence(error instanceof Error ? error.message : String(error))}`);
  }
}

/** JSON text of a value, exact: integers and decimals as their digits, JSON columns as the JSON they hold. */
export function jsonText(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint' || value instanceof Decimal) return String(value);
  if (value instanceof Json) return value.text;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  return `{${Object.entries(value).map(([key, inner]) => `${JSON.stringify(key)}:${jsonText(inner as Value)}`).join(',')}}`;
}

/** A value as text in a cell: strings as they are, the rest as JSON text. */
function cellText(value: Value): string {
  if (typeof value === 'string') return value;
  if (value instanceof Json) return value.text;
  return jsonText(value);
}

function isNumeric(value: Value): boolean {
  return typeof value === 'number' || typeof value === 'bigint' || value instanceof Decimal;
}

/** An aligned text table: numbers to the right, a rule under the names, the count of rows below; `(no rows)` for none. */
export function formatTable(result: QueryResult): string {
  if (result.rows.length === 0) return '(no rows)\n';
  const names = result.columns.map((c) => c.name);
  // One line a cell: a line break or tab in a value is shown as \n or \t.
  const shown = (value: Value) => (value === null ? 'NULL' : cellText(value).replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t'));
  const cells = result.rows.map((row) => names.map((name) => shown(row[name] ?? null)));
  const numeric = names.map((name) => result.rows.every((row) => row[name] === null || isNumeric(row[name] ?? null)));
  const widths = names.map((name, i) => Math.max(name.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (numeric[i] ? value.padStart(widths[i] as number) : value.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const count = `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`;
  return `${[line(names), rule, ...cells.map(line), count].join('\n')}\n`;
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled; lines end with CRLF; NULL is an empty field. */
export function formatCsv(result: QueryResult): string {
  const field = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const names = result.columns.map((c) => c.name);
  const lines = [names.map(field), ...result.rows.map((row) => names.map((name) => (row[name] === null || row[name] === undefined ? '' : field(cellText(row[name] as Value)))))];
  return lines.map((cells) => `${cells.join(',')}\r\n`).join('');
}

/** One JSON object a row, its keys the columns' names. */
export function formatJsonLines(result: QueryResult): string {
  const names = result.columns.map((c) => c.name);
  return result.rows.map((row) => `{${names.map((name) => `${JSON.stringify(name)}:${jsonText(row[name] ?? null)}`).join(',')}}\n`).join('');
}

export function formatResult(result: QueryResult, format: QueryFormat): string {
  if (format === 'csv') return formatCsv(result);
  if (format === 'json') return formatJsonLines(result);
  return formatTable(result);
}
