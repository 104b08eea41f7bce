// The DuckDB warehouse client: the only code of stripe-elt that opens DuckDB. The file is attached
// to an in-memory instance under the name DuckDB gives it by default (`stripe` for
// stripe.duckdb), the name any other DuckDB client sees it under, so that SQL written through this
// client reads the same anywhere. Opened to write, it is tuned for loading (below); opened to read
// only, DuckDB refuses every write, and other readers may open the file meanwhile.
import { basename } from 'node:path';
import {
  BIGINT,
  DOUBLE,
  DuckDBInstance,
  HUGEINT,
  DuckDBTypeId,
  arrayFromArrayValue,
  arrayFromListValue,
  objectArrayFromMapValue,
  objectFromStructValue,
  objectFromUnionValue,
  timestampTZValue,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
} from '@duckdb/node-api';
import { Decimal, Json, ReadOnlyRefusal, TransactionGate, committed, isoTimestamp, type Parameters, type QueryResult, type Row, type Session, type Value, type WarehouseClient } from '../../warehouse/client.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, sizeInBytes } from './memory-limit.js';
import { openFailure } from './open-errors.js';
import { literal, quote } from './sql.js';

/** What this client calls of @duckdb/node-api: an instance, and one connection of it. */
interface DuckDBDatabase {
  connect(): Promise<DuckDBSessionHandle>;
  closeSync(): void;
}
interface DuckDBSessionHandle {
  run(sql: string, values?: Record<string, DuckDBValue>, types?: Record<string, DuckDBType | undefined>): Promise<{ readonly rowsChanged: number }>;
  runAndReadAll(sql: string, values?: Record<string, DuckDBValue>, types?: Record<string, DuckDBType | undefined>): Promise<DuckDBRows>;
  closeSync(): void;
}
interface DuckDBRows {
  deduplicatedColumnNames(): string[];
  columnTypes(): DuckDBType[];
  getRows(): DuckDBValue[][];
}

export interface DuckDBClientOptions {
  /** Opens the file to read only: DuckDB refuses every write, and needs no write access to the file or its folder. */
  readonly readOnly?: boolean;
  /** The memory DuckDB may use (256MB, 2GB); when writing, it spills beyond it to PATH.tmp. */
  readonly memoryLimit?: string;
  /** DuckDB's worker threads (default: one per core). */
  readonly threads?: number;
}

/** Names DuckDB keeps for its own databases: a file of such a name is attached as `warehouse`. */
const RESERVED_NAMES = new Set(['memory', 'system', 'temp', 'main']);

/** The name DuckDB gives an attached file by default: its name up to the first dot. */
function catalogName(path: string): string {
  const name = basename(path).split('.')[0] ?? '';
  return name === '' || RESERVED_NAMES.has(name.toLowerCase()) ? 'warehouse' : name;
}

/** DuckDB's values as the port's (see Value in warehouse/client.ts). */
const toValue: DuckDBValueConverter<Value> = (value, type, converter) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return value as boolean | number;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return value as bigint;
    case DuckDBTypeId.DECIMAL:
      return new Decimal(String(value));
    case DuckDBTypeId.VARCHAR:
      return type.alias === 'JSON' ? new Json(value as string) : (value as string);
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP: {
      const { micros, isFinite } = value as { micros: bigint; isFinite: boolean };
      return isFinite ? isoTimestamp(micros, type.typeId === DuckDBTypeId.TIMESTAMP_TZ ? 'Z' : '') : String(value);
    }
    case DuckDBTypeId.LIST:
      return arrayFromListValue(value, type, converter);
    case DuckDBTypeId.ARRAY:
      return arrayFromArrayValue(value, type, converter);
    case DuckDBTypeId.STRUCT:
      return objectFromStructValue(value, type, converter);
    case DuckDBTypeId.MAP:
      return objectArrayFromMapValue(value, type, converter);
    case DuckDBTypeId.UNION:
      return objectFromUnionValue(value, type, converter);
    default:
      // Dates, times, intervals, UUIDs, bytes, timestamps in other units: DuckDB's own text.
      return String(value);
  }
};

const LARGEST_BIGINT = 2n ** 63n - 1n;

/**
 * The parameters' values and types as DuckDB binds them: a whole number is a BIGINT (as BigQuery's
 * INT64), a fraction a DOUBLE, a bigint a BIGINT if it fits, a Date a TIMESTAMPTZ; the rest as
 * DuckDB reads them.
 */
function bound(params: Parameters | undefined): { values?: Record<string, DuckDBValue>; types?: Record<string, DuckDBType | undefined> } {
  if (!params) return {};
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType | undefined> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value instanceof Date) {
      values[name] = timestampTZValue(BigInt(value.getTime()) * 1000n);
    } else if (typeof value === 'number') {
      values[name] = Number.isInteger(value) ? BigInt(value) : value;
      types[name] = Number.isInteger(value) ? BIGINT : DOUBLE;
    } else if (typeof value === 'bigint') {
      values[name] = value;
      types[name] = value >= -LARGEST_BIGINT - 1n && value <= LARGEST_BIGINT ? BIGINT : HUGEINT;
    } else {
      values[name] = value;
    }
  }
  return { values, types };
}

class DuckDBSession implements Session {
  readonly dialect = 'duckdb' as const;
  constructor(private readonly connection: () => DuckDBSessionHandle) {}

  async query<R extends Row = Row>(sql: string, params?: Parameters): Promise<QueryResult<R>> {
    const { values, types: bindTypes } = bound(params);
    const reader = await this.connection().runAndReadAll(sql, values, bindTypes);
    const names = reader.deduplicatedColumnNames();
    const types = reader.columnTypes();
    // Converted by the result's column types: a chunk's vectors do not say which VARCHAR is JSON.
    const rows = reader.getRows().map((values) => Object.fromEntries(names.map((name, i) => [name, toValue(values[i] ?? null, types[i] as DuckDBType, toValue)])) as R);
    return { columns: names.map((name, i) => ({ name, type: String(types[i]) })), rows };
  }

  async execute(sql: string, params?: Parameters): Promise<number> {
    const { values, types } = bound(params);
    return (await this.connection().run(sql, values, types)).rowsChanged;
  }
}

export class DuckDBClient implements WarehouseClient {
  readonly dialect = 'duckdb' as const;
  readonly description: string;
  private readonly session = new DuckDBSession(() => {
    if (!this.handle) throw new Error(`the DuckDB warehouse ${this.path} is closed`);
    return this.handle;
  });
  private readonly gate = new TransactionGate();

  private constructor(
    readonly path: string,
    /** The name the file is attached under, as `SELECT current_database()` says it. */
    readonly catalog: string,
    private database: DuckDBDatabase | undefined,
    private handle: DuckDBSessionHandle | undefined,
  ) {
    this.description = `duckdb:${path}`;
  }

  /**
   * Opens the warehouse file (creating it, unless read-only, if it does not exist). A file another
   * process holds, or that is not a DuckDB database, is refused with a sentence that says so.
   */
  static async open(path: string, options: DuckDBClientOptions = {}): Promise<DuckDBClient> {
    const memoryLimit = options.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT;
    const catalog = catalogName(path);
    let database: DuckDBDatabase | undefined;
    let handle: DuckDBSessionHandle | undefined;
    try {
      if (options.readOnly) {
        database = await DuckDBInstance.create(':memory:', { memory_limit: memoryLimit });
        handle = await database.connect();
        await handle.run(`ATTACH ${literal(path)} AS ${quote(catalog)} (READ_ONLY)`);
      } else {
        // A load's memory stays flat whatever the data's size: DuckDB spills beyond its limit (next to
        // the file) instead of caching the whole table. Until a checkpoint, what a commit wrote
        // stays in memory besides the limit: a checkpoint every 64MB of WAL keeps a load of a million
        // objects within 1.2 times the peak of a hundred thousand (581 and 684 MB; with 512MB, at a
        // 128MB limit, it grew from 459 to 713 MB), at no cost to a load that waits for Stripe. Smaller row groups (16,384 rows instead
        // of 122,880) make each checkpoint cheaper once tables grow (see BENCHMARKS.md). The file is
        // attached to set the row group size.
        // This build of DuckDB allocates with glibc's malloc, which keeps what a statement frees for
        // later: giving it back to the system whenever a statement frees an eighth of the limit
        // keeps the process ~15% smaller for ~10% more time.
        const flushMb = Math.max(1, Math.round((sizeInBytes(memoryLimit) ?? 0) / 8 / 1e6));
        database = await DuckDBInstance.create(':memory:', {
          memory_limit: memoryLimit,
          ...(options.threads ? { threads: String(options.threads) } : {}),
          checkpoint_threshold: '64MB',
          allocator_bulk_deallocation_flush_threshold: `${flushMb}MB`,
          temp_directory: `${path}.tmp`,
        });
        handle = await database.connect();
        await handle.run(`ATTACH ${literal(path)} AS ${quote(catalog)} (ROW_GROUP_SIZE 16384)`);
      }
      await handle.run(`USE ${quote(catalog)}`);
    } catch (error) {
      handle?.closeSync();
      database?.closeSync();
      throw openFailure(path, error, options.readOnly ? 'read' : 'write');
    }
    return new DuckDBClient(path, catalog, database, handle);
  }

  async query<R extends Row = Row>(sql: string, params?: Parameters): Promise<QueryResult<R>> {
    await this.gate.passed();
    return this.session.query<R>(sql, params).catch((error: unknown) => this.refused(error));
  }

  async execute(sql: string, params?: Parameters): Promise<number> {
    await this.gate.passed();
    return this.session.execute(sql, params).catch((error: unknown) => this.refused(error));
  }

  /** DuckDB's refusal to write to a file attached read-only, as the port says it. */
  private refused(error: unknown): never {
    const type = /Cannot execute statement of type "(\w+)" on database .* which is attached in read-only mode/.exec((error as Error).message)?.[1];
    throw type ? new ReadOnlyRefusal(this.description, type) : error;
  }

  transaction<T>(work: (transaction: Session) => Promise<T>): Promise<T> {
    return this.gate.hold(async () => {
      await this.session.execute('BEGIN TRANSACTION');
      return committed(this.session, work, { commit: 'COMMIT', rollback: 'ROLLBACK' });
    });
  }

  async close(): Promise<void> {
    this.handle?.closeSync();
    this.database?.closeSync();
    this.handle = undefined;
    this.database = undefined;
  }
}
