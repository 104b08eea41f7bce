// The warehouse client: the one way stripe-elt reaches a warehouse (loaders, migrations, `query`,
// the transform runner, the tests), as kysely's Driver/Connection or dlt's SQL client. SQL goes
// in, in the engine's own dialect, with bound parameters; rows come out as plain objects whose
// values are the same types whatever the engine. One implementation per engine
// (duckdb-client.ts, bigquery-client.ts), and one contract suite over both.

export type Dialect = 'duckdb' | 'bigquery';

/** An exact decimal (DuckDB's DECIMAL, BigQuery's NUMERIC and BIGNUMERIC), as its digits: a float would round it. */
export class Decimal {
  constructor(readonly digits: string) {}
  toString(): string {
    return this.digits;
  }
}

/** A JSON column's value, as the JSON text the warehouse holds: parsing is the reader's choice (JSON.parse rounds large numbers). */
export class Json {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  parse(): unknown {
    return JSON.parse(this.text);
  }
}

/**
 * A value in a row, the same from every engine:
 * - booleans; integers of up to 32 bits and floating-point numbers as numbers (NaN and the
 *   infinities included); 64-bit and larger integers (BIGINT, HUGEINT, INT64) as bigints;
 * - decimals as Decimal, JSON as Json, exact;
 * - timestamps as ISO 8601 text to the microsecond (`2024-01-02T03:04:05.123456Z`; without the
 *   `Z` for a timestamp without time zone), dates as `2024-01-02`;
 * - lists as arrays and structs as objects, of values;
 * - anything else (intervals, times, UUIDs, bytes…) as the engine writes it as text.
 */
export type Value = null | boolean | number | bigint | string | Decimal | Json | readonly Value[] | { readonly [key: string]: Value };

export type Row = Record<string, Value>;

/**
 * A bound parameter, named in the SQL as `$name` (DuckDB) or `@name` (BigQuery). A whole
 * number is an INTEGER/BIGINT (INT64), a fractional one a DOUBLE (FLOAT64), a Date a timestamp
 * with time zone. BigQuery types every parameter, and a null is a STRING there: write
 * `CAST(@name AS INT64)` where a null of another type is meant.
 */
export type ParameterValue = string | number | bigint | boolean | Date | null;
export type Parameters = Readonly<Record<string, ParameterValue>>;

export interface Column {
  readonly name: string;
  /** The engine's name for the column's type (`BIGINT`, `TIMESTAMP WITH TIME ZONE`; `INTEGER`, `TIMESTAMP`). */
  readonly type: string;
}

export interface QueryResult<R extends Row = Row> {
  /** In the order of the select list; a name the select list repeats is made unique (`n`, `n_1`). */
  readonly columns: readonly Column[];
  readonly rows: R[];
}

/** What runs SQL: a client, or a transaction of it. */
export interface Session {
  readonly dialect: Dialect;
  /** Runs a query; its rows, as plain objects by column name. */
  query<R extends Row = Row>(sql: string, params?: Parameters): Promise<QueryResult<R>>;
  /** Runs a statement (DML, DDL, or a script of several); the rows it inserted, updated or deleted. */
  execute(sql: string, params?: Parameters): Promise<number>;
}

export interface WarehouseClient extends Session {
  /** `duckdb:stripe.duckdb`, `bigquery:my-project`: for messages. */
  readonly description: string;
  /**
   * Runs `work` in one transaction: everything it ran is committed if it resolves, and nothing
   * if it throws (the error is thrown again). Meanwhile the client runs nothing else. What a
   * transaction may hold is the engine's to say (BigQuery: queries and DML, no DDL of tables or
   * datasets; see bigquery-client.ts).
   */
  transaction<T>(work: (transaction: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * One transaction at a time holds a client: the client's own calls wait (`passed`) until the
 * transaction that holds it ends; the transaction's calls go through its session, not the gate.
 */
export class TransactionGate {
  private held: Promise<unknown> = Promise.resolve();

  async passed(): Promise<void> {
    await this.held;
  }

  hold<T>(work: () => Promise<T>): Promise<T> {
    const before = this.held;
    const done = before.then(work);
    this.held = done.catch(() => undefined);
    return done;
  }
}

/**
 * Runs `work` in a transaction the session has begun: commits if it resolves; if it throws, rolls
 * back (a failed commit has rolled back already) and throws its error again.
 */
export async function committed<T>(session: Session, work: (transaction: Session) => Promise<T>, statements: { commit: string; rollback: string }): Promise<T> {
  try {
    const result = await work(session);
    await session.execute(statements.commit);
    return result;
  } catch (error) {
    await session.execute(statements.rollback).catch(() => undefined);
    throw error;
  }
}

/** A client opened to read only refused a statement that is not a query; nothing was run. */
export class ReadOnlyRefusal extends Error {
  constructor(
    readonly description: string,
    /** As the engine names it: INSERT, CREATE_TABLE, SCRIPT… */
    readonly statementType: string,
  ) {
    super(`${description} is open to read only, and this is a ${statementType} statement: nothing was run.`);
    this.name = 'ReadOnlyRefusal';
  }
}

/** ISO 8601 text of a time in microseconds since the epoch, UTC (`zone` 'Z'), or local to no zone (''). */
export function isoTimestamp(micros: bigint, zone: 'Z' | ''): string {
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
  const fraction = micros - seconds * 1_000_000n;
  const whole = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return `${whole}${fraction === 0n ? '' : `.${fraction.toString().padStart(6, '0').replace(/0+$/, '')}`}${zone}`;
}
