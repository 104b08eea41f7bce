// What the runner needs of a warehouse: to run SQL, and to know what a relation is. Each engine's
// client provides it (connector/warehouse/); the runner knows nothing else of the engines but the
// SQL dialect, which lives in dialects.ts.
import type { Dialect } from './render.js';

export type Row = Record<string, unknown>;

export interface RelationInfo {
  readonly kind: 'table' | 'view';
  readonly columns: readonly string[];
}

export interface TransformWarehouse {
  readonly dialect: Dialect;
  /** `duckdb:stripe.duckdb`, `bigquery:project`: for messages. */
  readonly description: string;
  query(sql: string): Promise<Row[]>;
  /** Runs statements (one, or a script) for their effect. */
  execute(sql: string): Promise<void>;
  /** The columns a query returns, in order (without running it through). */
  columnsOf(sql: string): Promise<string[]>;
  /** What stands at schema.name, or null if nothing does. */
  describe(schema: string, name: string): Promise<RelationInfo | null>;
}

/** One model's (or seed's) build, as the warehouse's build ledger keeps it. */
export interface BuildRecord {
  readonly model: string;
  readonly version: string;
  /** sha256 of the SQL the build ran (its full build's rendering). */
  readonly checksum: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly rows: number | null;
  readonly outcome: 'success' | 'error' | 'skipped' | 'refused';
  readonly message: string | null;
}

/** Where the runner keeps its ledger: the bookkeeping of the warehouse (stripe_elt.model_builds). */
export interface BuildLedger {
  /** The checksum of each model version's last successful build, by `model@version`. */
  lastSuccessful(): Promise<Map<string, string>>;
  record(build: BuildRecord): Promise<void>;
}

/** A warehouse that is never asked anything, for compiling a project without one (the model reference, rendering tests). */
export function offlineWarehouse(dialect: Dialect, description: string): TransformWarehouse & BuildLedger {
  return {
    dialect,
    description,
    query: async () => [],
    execute: async () => {},
    describe: async () => null,
    columnsOf: async () => [],
    lastSuccessful: async () => new Map(),
    record: async () => {},
  };
}
