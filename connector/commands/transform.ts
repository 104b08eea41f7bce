// `transform`: builds the dbt project in sql/ (or another) in the warehouse with our runner
// (transforms/), through the warehouse's own client; its builds go to the warehouse's ledger,
// stripe_elt.model_builds. `sync` is `load`, then this, in one process.
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { defaultBuildMemoryLimit } from '../loaders/duckdb/memory-limit.js';
import type { Warehouse } from '../loaders/warehouse.js';
import type { WarehouseClient } from '../warehouse/client.js';
import { quoteName } from '../warehouse/dialect.js';
import { bigquery, duckdb } from '../../transforms/dialects.js';
import { TransformError } from '../../transforms/errors.js';
import { readProject } from '../../transforms/project.js';
import { runTransforms, type TransformOptions, type TransformSummary } from '../../transforms/runner.js';
import type { BuildLedger, BuildRecord, RelationInfo, Row, TransformWarehouse } from '../../transforms/warehouse.js';

/** sql/ beside the package: found from this module, whether run from the sources or built. */
export function defaultProjectDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'sql', 'dbt_project.yml'))) return join(dir, 'sql');
    dir = dirname(dir);
  }
  return resolve('sql');
}

/** `--vars '{key: value}'`: YAML (or JSON) of a mapping, as dbt takes it. */
export function parseVars(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new UserError(`--vars ${text}: not YAML (${(error as Error).message}). Give a mapping, such as --vars '{schema_prefix: dev_}'.`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UserError(`--vars ${text}: give a mapping of names to values, such as --vars '{schema_prefix: dev_}'.`);
  return value as Record<string, unknown>;
}

/** A value of a row as the runner reports it: exact types (decimals, JSON) as their text. */
function plain(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key] = value !== null && typeof value === 'object' && !Array.isArray(value) && value.constructor !== Object ? String(value) : value;
  return out;
}

/** The warehouse as the runner sees it, and its build ledger, both through the warehouse's client. */
export class WarehouseForTransforms implements TransformWarehouse, BuildLedger {
  readonly dialect: 'duckdb' | 'bigquery';
  readonly description: string;
  private readonly client: WarehouseClient;

  constructor(private readonly warehouse: Warehouse) {
    this.client = warehouse.client;
    this.dialect = this.client.dialect;
    this.description = warehouse.description;
  }

  async query(sql: string): Promise<Row[]> {
    return (await this.client.query(sql)).rows.map(plain);
  }

  async execute(sql: string): Promise<void> {
    await this.client.execute(sql);
  }

  async columnsOf(sql: string): Promise<string[]> {
    return (await this.client.query(`SELECT * FROM (\n${sql}\n) AS columns_of LIMIT 0`)).columns.map((c) => c.name);
  }

  async describe(schema: string, name: string): Promise<RelationInfo | null> {
    const relation = `${quoteName(this.dialect, schema)}.${quoteName(this.dialect, name)}`;
    let kind: RelationInfo['kind'] | undefined;
    if (this.dialect === 'duckdb') {
      const { rows } = await this.client.query(
        'SELECT table_type FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = $schema AND table_name = $name',
        { schema, name },
      );
      if (rows[0]) kind = String(rows[0].table_type).includes('VIEW') ? 'view' : 'table';
    } else {
      try {
        const { rows } = await this.client.query(`SELECT table_type FROM ${quoteName('bigquery', schema)}.INFORMATION_SCHEMA.TABLES WHERE table_name = @name`, { name });
        if (rows[0]) kind = String(rows[0].table_type).includes('VIEW') ? 'view' : 'table';
      } catch (error) {
        if (!/Not found: Dataset/.test((error as Error).message)) throw error;
      }
    }
    if (!kind) return null;
    return { kind, columns: await this.columnsOf(`SELECT * FROM ${relation}`) };
  }

  private get builds(): string {
    return `${quoteName(this.dialect, this.warehouse.names.meta)}.${quoteName(this.dialect, 'model_builds')}`;
  }

  async lastSuccessful(): Promise<Map<string, string>> {
    const { rows } = await this.client.query(`SELECT model, version, checksum FROM ${this.builds} WHERE outcome = 'success' ORDER BY finished_at`);
    return new Map(rows.map((row) => [`${String(row.model)}@${String(row.version)}`, String(row.checksum)]));
  }

  async record(build: BuildRecord): Promise<void> {
    const p = this.dialect === 'duckdb' ? '$' : '@';
    const rows = build.rows === null ? 'NULL' : `${p}rows`;
    const message = build.message === null ? 'NULL' : `${p}message`;
    await this.client.execute(
      `INSERT INTO ${this.builds} (model, version, checksum, started_at, finished_at, rows_affected, outcome, message)
       VALUES (${p}model, ${p}version, ${p}checksum, ${p}started, ${p}finished, ${rows}, ${p}outcome, ${message})`,
      {
        model: build.model,
        version: build.version,
        checksum: build.checksum,
        started: build.startedAt,
        finished: build.finishedAt,
        outcome: build.outcome,
        ...(build.rows === null ? {} : { rows: build.rows }),
        ...(build.message === null ? {} : { message: build.message }),
      },
    );
  }
}

export interface TransformCommandOptions {
  readonly projectDir?: string;
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly fullRefresh?: boolean;
  readonly vars?: Readonly<Record<string, unknown>>;
  /** BigQuery: the loader's --dataset-prefix, the project's schema_prefix var. */
  readonly datasetPrefix?: string;
  /** DuckDB: the memory the build may use (default: half of the machine's, defaultBuildMemoryLimit). */
  readonly duckdbMemoryLimit?: string;
  readonly onNode?: TransformOptions['onNode'];
}

/** Builds the project in an open warehouse; its bookkeeping is migrated first. */
export async function transform(warehouse: Warehouse, options: TransformCommandOptions = {}): Promise<TransformSummary> {
  const projectDir = options.projectDir ?? defaultProjectDir();
  await warehouse.migrate();
  const port = new WarehouseForTransforms(warehouse);
  const project = warehouse.description.startsWith('bigquery:') ? warehouse.description.slice('bigquery:'.length) : undefined;
  const build = () =>
    runTransforms({
      project: readProject(projectDir),
      warehouse: port,
      ledger: port,
      dialect: project === undefined ? duckdb : bigquery,
      target: { type: port.dialect, schema: warehouse.names.marts, ...(project ? { database: project } : {}), name: 'stripe-elt' },
      select: options.select ?? [],
      exclude: options.exclude ?? [],
      fullRefresh: options.fullRefresh ?? false,
      vars: { ...(options.datasetPrefix ? { schema_prefix: options.datasetPrefix } : {}), ...(options.vars ?? {}) },
      ...(options.onNode ? { onNode: options.onNode } : {}),
    });
  try {
    return port.dialect === 'duckdb' ? await withBuildSettings(warehouse.client, options.duckdbMemoryLimit, build) : await build();
  } catch (error) {
    // The project itself is wrong (a ref to nothing, a cycle, a bad file): one sentence, as for any bad input.
    if (error instanceof TransformError) throw new UserError(error.message);
    throw error;
  }
}

const BUILD_SETTINGS = ['memory_limit', 'threads', 'preserve_insertion_order'] as const;

/**
 * Runs `build` with DuckDB set for a build, then gives the loader's settings back (one thread and
 * 128MB in sync and serve, for the loads that follow in the same process). A build takes every
 * core and its own memory (default: half of the machine's), and its tables have no order to keep:
 * without one, DuckDB builds them within its memory limit.
 */
async function withBuildSettings<T>(client: WarehouseClient, memoryLimit: string | undefined, build: () => Promise<T>): Promise<T> {
  const list = BUILD_SETTINGS.map((name) => `'${name}'`).join(', ');
  const { rows } = await client.query(`select name, value from duckdb_settings() where name in (${list})`);
  await client.execute('SET preserve_insertion_order = false');
  await client.execute(`SET memory_limit = '${memoryLimit ?? defaultBuildMemoryLimit(totalmem())}'`);
  await client.execute('RESET threads'); // DuckDB's own default: a thread per core it may use (its cgroup's quota)
  try {
    return await build();
  } finally {
    for (const row of rows) await client.execute(`SET ${String(row.name)} = '${String(row.value).replaceAll("'", "''")}'`);
  }
}
