// A DuckDB database for the runner's tests, as the runner sees a warehouse (until the warehouse
// client serves it), with a build ledger kept in memory.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { BuildLedger, BuildRecord, RelationInfo, Row, TransformWarehouse } from '../../transforms/warehouse.js';

export class TestDuckDB implements TransformWarehouse, BuildLedger {
  readonly dialect = 'duckdb' as const;
  readonly description = 'duckdb:(memory)';
  readonly statements: string[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** The ledger: kept by the caller across instances of the same file, as a warehouse keeps it. */
    readonly builds: BuildRecord[],
  ) {}

  static async create(path = ':memory:', builds: BuildRecord[] = []): Promise<TestDuckDB> {
    const instance = await DuckDBInstance.create(path);
    return new TestDuckDB(instance, await instance.connect(), builds);
  }

  async query(sql: string): Promise<Row[]> {
    this.statements.push(sql);
    return (await this.connection.runAndReadAll(sql)).getRowObjectsJson() as Row[];
  }

  async execute(sql: string): Promise<void> {
    this.statements.push(sql);
    await this.connection.run(sql);
  }

  async columnsOf(sql: string): Promise<string[]> {
    return (await this.connection.runAndReadAll(`select * from (\n${sql}\n) limit 0`)).columnNames();
  }

  async describe(schema: string, name: string): Promise<RelationInfo | null> {
    const escape = (s: string) => `'${s.replaceAll("'", "''")}'`;
    const tables = await this.query(`select table_type from information_schema.tables where table_schema = ${escape(schema)} and table_name = ${escape(name)}`);
    const type = tables[0]?.table_type;
    if (type === undefined) return null;
    const columns = await this.query(`select column_name from information_schema.columns where table_schema = ${escape(schema)} and table_name = ${escape(name)} order by ordinal_position`);
    return { kind: type === 'VIEW' ? 'view' : 'table', columns: columns.map((c) => String(c.column_name)) };
  }

  async lastSuccessful(): Promise<Map<string, string>> {
    return new Map(this.builds.filter((b) => b.outcome === 'success').map((b) => [`${b.model}@${b.version}`, b.checksum]));
  }

  async record(build: BuildRecord): Promise<void> {
    this.builds.push(build);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
