// Seeds: CSV files loaded as tables, their column types inferred as dbt (agate) infers them —
// integer, decimal, boolean, date, timestamp, else text; an empty field is null — unless the
// seed's `column_types` config names a type.
import { parse } from 'csv-parse/sync';
import type { SqlDialect } from './dialects.js';
import { TransformError } from './errors.js';
import type { Relation } from './render.js';

type Inferred = keyof SqlDialect['seedTypes'];

const PATTERNS: readonly [Inferred, RegExp][] = [
  ['integer', /^-?\d+$/],
  ['decimal', /^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/],
  ['boolean', /^(true|false)$/i],
  ['date', /^\d{4}-\d{2}-\d{2}$/],
  ['timestamp', /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/],
];

function infer(values: readonly string[]): Inferred {
  const present = values.filter((v) => v !== '');
  if (present.length === 0) return 'text';
  for (const [type, pattern] of PATTERNS) if (present.every((v) => pattern.test(v))) return type;
  return 'text';
}

export interface SeedTable {
  readonly columns: { name: string; type: string }[];
  readonly statements: string[];
  readonly rows: number;
}

/** The statements that (re)create a seed's table with its rows. */
export function seedStatements(name: string, csv: string, relation: Relation, dialect: SqlDialect, columnTypes: Readonly<Record<string, string>> = {}): SeedTable {
  let records: string[][];
  try {
    records = parse(csv, { skip_empty_lines: true, relax_column_count: false, trim: false }) as string[][];
  } catch (error) {
    throw new TransformError(`The seed ${name} is not valid CSV: ${(error as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header || header.length === 0) throw new TransformError(`The seed ${name} has no header row.`);
  const inferred = header.map((_, i) => infer(rows.map((r) => r[i] ?? '')));
  const columns = header.map((column, i) => ({ name: column, type: columnTypes[column] ?? dialect.seedTypes[inferred[i] as Inferred] }));
  const literal = (value: string, i: number): string => {
    if (value === '') return 'null';
    const type = inferred[i] as Inferred;
    if (columnTypes[header[i] as string] !== undefined) return `cast(${dialect.string(value)} as ${columns[i]?.type})`;
    if (type === 'integer' || type === 'decimal') return value;
    if (type === 'boolean') return value.toLowerCase();
    if (type === 'date' || type === 'timestamp') return `cast(${dialect.string(value)} as ${dialect.seedTypes[type]})`;
    return dialect.string(value);
  };
  const values = rows.map((row) => row.map(literal));
  return { columns, statements: dialect.seed(relation, columns, values), rows: rows.length };
}
