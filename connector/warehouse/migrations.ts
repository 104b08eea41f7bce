// Ordered migrations with a ledger, as kysely's Migrator. The bookkeeping of a warehouse (the
// stripe_elt schema or dataset) is made and upgraded by a list of named migrations in code,
// applied in order; each is recorded, with the checksum of what it does, in the ledger
// stripe_elt.migrations (name, applied_at, checksum) as it is applied. A ledger this release
// cannot continue is refused before anything is done: it holds a migration this release does not
// know (a newer release wrote it), holds them in another order, or holds one with other content.
// A warehouse written before the ledger existed (stripe-elt 0.1: its bookkeeping tables, no
// ledger) is adopted: the migrations that made what it holds are recorded as applied, not run.
// Each engine keeps its ledger and runs its migrations its own way (a `Ledger`), each migration in
// its own transaction where the engine allows.
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';

export interface Migration<T> {
  /** `0001_state`: released names never change, and a new migration comes last. */
  readonly name: string;
  /** What the migration does, as text (its statements, the tables it defines): the ledger keeps its checksum. */
  readonly definition: string;
  up(target: T): Promise<void>;
  /**
   * For the migrations that made what a warehouse written before the ledger holds: whether that
   * is there (then, with no ledger yet, the migration is recorded as applied instead of run).
   */
  readonly present?: (target: T) => Promise<boolean>;
}

export interface LedgerEntry {
  readonly name: string;
  readonly checksum: string;
}

/** `applied`: run now; `adopted`: found made, and recorded; `failed`: run, and failed; `not run`: after a failure. */
export type MigrationStatus = 'applied' | 'adopted' | 'failed' | 'not run';

export interface MigrationResult {
  readonly name: string;
  readonly status: MigrationStatus;
  /** Why it failed. */
  readonly error?: string;
}

export interface MigrationReport {
  /** One per migration this run applied, adopted, failed or did not run (the ones applied before are not in it). */
  readonly results: readonly MigrationResult[];
  /** Whether the ledger was found (false: a new warehouse, or one written before the ledger). */
  readonly hadLedger: boolean;
  readonly error?: unknown;
}

/** How an engine keeps the ledger and applies a migration. */
export interface Ledger<T> {
  /** `duckdb:stripe.duckdb`, and the ledger's name (`stripe_elt.migrations`): for messages. */
  readonly warehouse: string;
  readonly table: string;
  /** What migrations run on (the client, or a transaction of it). */
  readonly target: T;
  exists(): Promise<boolean>;
  /** Creates the ledger (and the schemas or datasets it lives beside). */
  create(): Promise<void>;
  /** The entries, in the order they were applied. */
  read(): Promise<LedgerEntry[]>;
  /** Runs the migration and records it, in one transaction where the engine allows. */
  apply(migration: Migration<T>, checksum: string): Promise<void>;
  /** Records migrations as applied, without running them. */
  record(entries: readonly LedgerEntry[]): Promise<void>;
}

/** The checksum of a migration's definition: SHA-256 of its words, however they are spaced. */
export function checksum(definition: string): string {
  return createHash('sha256').update(definition.trim().split(/\s+/).join(' ')).digest('hex');
}

/** The entries in order of application, each name once (two processes migrating at once on BigQuery may both record one). */
function distinct(entries: readonly LedgerEntry[]): LedgerEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => !seen.has(entry.name) && seen.add(entry.name));
}

/** Refuses, with what is wrong and what to do, a ledger that this release's migrations do not continue. */
export function checkLedger<T>(entries: readonly LedgerEntry[], migrations: readonly Migration<T>[], where: Pick<Ledger<T>, 'warehouse' | 'table'>): void {
  const applied = distinct(entries);
  const known = new Set(migrations.map((m) => m.name));
  const unknown = applied.filter((entry) => !known.has(entry.name)).map((entry) => entry.name);
  if (unknown.length > 0) {
    throw new UserError(
      `${where.warehouse} was upgraded by a newer release of stripe-elt: its ledger ${where.table} holds ${unknown.length === 1 ? 'the migration' : 'the migrations'} ${unknown.join(', ')}, ` +
        'which this release does not know. Nothing was changed; use that release (or a newer one) with this warehouse.',
    );
  }
  const misplaced = applied.findIndex((entry, i) => entry.name !== migrations[i]?.name);
  if (misplaced >= 0) {
    throw new UserError(
      `The ledger ${where.table} of ${where.warehouse} holds its migrations in another order than stripe-elt applies them ` +
        `(${applied.map((e) => e.name).join(', ')}, where stripe-elt applies ${migrations.slice(0, applied.length).map((m) => m.name).join(', ')}): ` +
        'something else than stripe-elt wrote it. Nothing was changed; restore the ledger, or load into a new warehouse.',
    );
  }
  for (const [i, entry] of applied.entries()) {
    const expected = checksum((migrations[i] as Migration<T>).definition);
    if (entry.checksum !== expected) {
      throw new UserError(
        `The migration ${entry.name} of ${where.warehouse} was applied with other content than this release's (the ledger ${where.table} has the checksum ` +
          `${entry.checksum.slice(0, 12)}…, this release ${expected.slice(0, 12)}…): a released migration was changed. Nothing was changed; report it, and use the release that applied it.`,
      );
    }
  }
}

/**
 * Applies, in order, the migrations the ledger does not hold (creating the ledger first if there
 * is none), and stops at the first that fails. Returns each one's result; a ledger this release
 * cannot continue is refused (thrown) before anything is done.
 */
export async function migrate<T>(ledger: Ledger<T>, migrations: readonly Migration<T>[]): Promise<MigrationReport> {
  const hadLedger = await ledger.exists();
  const entries = hadLedger ? await ledger.read() : [];
  checkLedger(entries, migrations, ledger);
  const pending = migrations.slice(distinct(entries).length);
  if (pending.length === 0) return { results: [], hadLedger };
  if (!hadLedger) await ledger.create();
  const results: MigrationResult[] = [];
  let failure: unknown;
  for (const migration of pending) {
    if (failure !== undefined) {
      results.push({ name: migration.name, status: 'not run' });
      continue;
    }
    try {
      if (!hadLedger && migration.present && (await migration.present(ledger.target))) {
        await ledger.record([{ name: migration.name, checksum: checksum(migration.definition) }]);
        results.push({ name: migration.name, status: 'adopted' });
      } else {
        await ledger.apply(migration, checksum(migration.definition));
        results.push({ name: migration.name, status: 'applied' });
      }
    } catch (error) {
      failure = error;
      results.push({ name: migration.name, status: 'failed', error: error instanceof Error ? error.message : String(error) });
    }
  }
  return failure === undefined ? { results, hadLedger } : { results, hadLedger, error: failure };
}

/** The results in words: `0001_state adopted, 0002_settings adopted, 0003_model_builds applied`. */
export function describeResults(results: readonly MigrationResult[]): string {
  return results.map((r) => `${r.name} ${r.status}${r.error ? ` (${r.error})` : ''}`).join(', ');
}

/** The refusal of a warehouse whose migration failed: what was done, and what was not. */
export function migrationFailure(warehouse: string, report: MigrationReport): UserError {
  const failed = report.results.find((r) => r.status === 'failed');
  return new UserError(
    `Upgrading the bookkeeping of ${warehouse} failed at the migration ${failed?.name ?? '?'}: ${failed?.error ?? String(report.error)}. ` +
      `Nothing else was written (${describeResults(report.results)}); fix the cause and run again, which goes on from there.`,
  );
}
