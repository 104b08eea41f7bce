// The DuckDB warehouse: one file, nothing to run. Raw tables in the `stripe_raw` schema, the
// state and settings in `stripe_elt`, all in the same file, so that records and the state after
// them commit in one transaction. Batches are read in bulk with read_json and merged with MERGE.
// Opening checks everything it can before any work (the file can be written, it is a stripe-elt
// warehouse or new, no other process holds it) and creates nothing: the first commit creates the
// schemas and tables.
import { rmSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Mode } from '../../config.js';
import { UserError } from '../../errors.js';
import { STREAM_NAMES, type StreamName } from '../../streams/catalog.js';
import type { StreamState } from '../../sync/state.js';
import type { BatchFile } from '../batch.js';
import { batchMode, batchPlatform, rawRow, storedStates, warehouseNames, type CommitResult, type Loader, type RawRow, type WarehouseNames } from '../loader.js';
import { newCompleteBackfills, type CompleteBackfill } from '../sweeps.js';
import { checkCatalog } from './catalog-check.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, sizeInBytes } from './memory-limit.js';
import { openFailure } from './open-errors.js';
import { literal, quote } from './sql.js';
import { META_TABLES, RAW_TABLE, createTableStatement } from './tables.js';
import { checkTarget, removeLeftoverSpill } from './target.js';

export { DEFAULT_DUCKDB_MEMORY_LIMIT, sizeInBytes };

export class DuckDBLoader implements Loader {
  readonly description: string;
  private readonly names: WarehouseNames;
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;
  /** The raw tables the file holds, by stream, and the tables of its bookkeeping schema. */
  private readonly tables = new Set<string>();
  private readonly metaTables = new Set<string>();
  /** A file this loader created and has not written to since (a write of nothing, a refused reset) is removed when it closes. */
  private createdFile = false;
  private wrote = false;

  constructor(
    readonly path: string,
    private readonly memoryLimit: string = DEFAULT_DUCKDB_MEMORY_LIMIT,
  ) {
    this.description = `duckdb:${path}`;
    this.names = warehouseNames();
  }

  private get db(): DuckDBConnection {
    if (!this.connection) throw new Error('the DuckDB warehouse is not open');
    return this.connection;
  }

  private raw(stream: string): string {
    return `${quote(this.names.raw)}.${quote(stream)}`;
  }

  private meta(table: string): string {
    return `${quote(this.names.meta)}.${quote(table)}`;
  }

  async open(): Promise<void> {
    const { exists } = checkTarget(this.path);
    try {
      // A load's memory stays flat whatever the data's size: DuckDB spills beyond its limit (next to
      // the file) instead of caching the whole table. Checkpoints are the costliest part of a
      // commit, as each rewrites the row groups that changed since the last: a larger WAL makes
      // them rarer, and smaller row groups (16,384 rows instead of 122,880) make each one cheaper
      // once tables grow (see BENCHMARKS.md). The file is attached to set the row group size.
      // This build of DuckDB allocates with glibc's malloc, which keeps what a statement frees for
      // later: giving it back to the system whenever a statement frees an eighth of the limit
      // keeps the process ~15% smaller for ~10% more time.
      const flushMb = Math.max(1, Math.round((sizeInBytes(this.memoryLimit) ?? 0) / 8 / 1e6));
      this.instance = await DuckDBInstance.create(':memory:', {
        memory_limit: this.memoryLimit,
        checkpoint_threshold: '512MB',
        allocator_bulk_deallocation_flush_threshold: `${flushMb}MB`,
        temp_directory: `${this.path}.tmp`,
      });
      this.connection = await this.instance.connect();
      await this.connection.run(`ATTACH ${literal(this.path)} AS warehouse (ROW_GROUP_SIZE 16384)`);
      this.createdFile = !exists;
      await this.connection.run('USE warehouse');
    } catch (error) {
      await this.close();
      throw openFailure(this.path, error);
    }
    try {
      const catalog = await checkCatalog(this.db, this.names, this.path);
      for (const table of catalog.rawTables) this.tables.add(table);
      for (const table of catalog.metaTables) this.metaTables.add(table);
    } catch (error) {
      await this.close();
      throw error;
    }
    removeLeftoverSpill(this.path);
  }

  exists(): boolean {
    return this.metaTables.size > 0;
  }

  /** Creates the schemas and the bookkeeping tables, before the first write. */
  private async prepare(): Promise<void> {
    if ([...META_TABLES.keys()].every((table) => this.metaTables.has(table))) return;
    this.wrote = true;
    for (const schema of [this.names.raw, this.names.marts, this.names.meta]) await this.db.run(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`);
    for (const [name, table] of META_TABLES) {
      await this.db.run(createTableStatement(this.meta(name), table));
      this.metaTables.add(name);
    }
  }

  async mode(): Promise<Mode | null> {
    if (!this.metaTables.has('settings')) return null;
    const result = await this.db.runAndReadAll(`SELECT value FROM ${this.meta('settings')} WHERE key = 'mode'`);
    const value = result.getRowObjectsJson()[0]?.value;
    return value === 'test' || value === 'live' ? value : null;
  }

  async platform(): Promise<string | null> {
    if (!this.metaTables.has('settings')) return null;
    const result = await this.db.runAndReadAll(`SELECT value FROM ${this.meta('settings')} WHERE key = 'platform'`);
    const value = result.getRowObjectsJson()[0]?.value;
    return typeof value === 'string' ? value : null;
  }

  async states(): Promise<Map<StreamName, StreamState>> {
    if (!this.metaTables.has('state')) return new Map();
    const result = await this.db.runAndReadAll(`SELECT stream, state FROM ${this.meta('state')}`);
    return storedStates(result.getRowObjectsJson(), this.description);
  }

  private async ensureTable(stream: string): Promise<void> {
    if (this.tables.has(stream)) return;
    this.wrote = true;
    await this.db.run(createTableStatement(this.raw(stream), RAW_TABLE));
    this.tables.add(stream);
  }

  async commit(batch: BatchFile, states: ReadonlyMap<StreamName, StreamState>): Promise<CommitResult> {
    const db = this.db;
    let swept = 0;
    // Outside the transaction, so that a rollback leaves the tables as this loader knows them.
    await this.prepare();
    for (const stream of new Set([...batch.streams, ...states.keys()])) await this.ensureTable(stream);
    await db.run('BEGIN TRANSACTION');
    try {
      const previous = await this.states();
      const platform = batchPlatform(await this.platform(), previous, states, this.description);
      if (platform) await db.run(`INSERT INTO ${this.meta('settings')} VALUES ('platform', ${literal(platform)})`);
      if (batch.records > 0) {
        // The fields the merge needs come out of each object in one parse, into typed columns.
        await db.run(
          `CREATE OR REPLACE TEMP TABLE stripe_elt_batch AS
           SELECT seq, stream, data,
                  f[1] AS account_id, f[2] AS id, TRY_CAST(f[3] AS BIGINT) AS created, TRY_CAST(f[4] AS BIGINT) AS observed_at,
                  coalesce(TRY_CAST(f[5] AS BOOLEAN), false) AS is_deleted, TRY_CAST(f[6] AS BOOLEAN) AS livemode
           FROM (
             SELECT seq, record.stream AS stream, record.data AS data,
                    json_extract_string(record.data, ['$.account_id', '$.id', '$.created', '$.observed_at', '$.deleted', '$.livemode']) AS f
             FROM read_json(${literal(batch.path)}, format = 'newline_delimited',
               columns = {seq: 'BIGINT', type: 'VARCHAR', record: 'STRUCT(stream VARCHAR, data JSON, emitted_at BIGINT)'}))`,
        );
        await this.checkRecords();
        await this.keepNewest();
        const withStubs = await this.streamsWithStubs();
        for (const stream of batch.streams) await this.merge(stream, withStubs.has(stream));
      }
      for (const [stream, state] of states) {
        for (const complete of newCompleteBackfills(previous.get(stream), state)) swept += await this.sweep(stream, complete);
        await db.run(
          `INSERT INTO ${this.meta('state')} (stream, state, updated_at) VALUES (${literal(stream)}, ${literal(JSON.stringify(state))}, now())
           ON CONFLICT (stream) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        );
      }
      await db.run('COMMIT');
    } catch (error) {
      await db.run('ROLLBACK');
      if (/Out of Memory Error/.test((error as Error).message)) {
        throw new UserError(
          `DuckDB ran out of memory within its limit of ${this.memoryLimit} while committing a batch of ${batch.records} records, and committed none of it. ` +
            `Give it more with --duckdb-memory-limit (the default is ${DEFAULT_DUCKDB_MEMORY_LIMIT}), then run again: the load goes on from its last commit.`,
        );
      }
      throw error;
    }
    return { swept };
  }

  private async streamsWithStubs(): Promise<Set<string>> {
    const result = await this.db.runAndReadAll('SELECT DISTINCT stream FROM stripe_elt_batch WHERE created IS NULL');
    return new Set(result.getRowObjectsJson().map((row) => String(row.stream)));
  }

  /** Every record must be one of ours (an account and a time of observation) and of the warehouse's mode. */
  private async checkRecords(): Promise<void> {
    const check = await this.db.runAndReadAll(
      `SELECT count(*) FILTER (WHERE account_id IS NULL OR id IS NULL OR observed_at IS NULL) AS foreign_records,
              min(seq) FILTER (WHERE account_id IS NULL OR id IS NULL OR observed_at IS NULL) AS first_foreign,
              list(DISTINCT livemode) FILTER (WHERE livemode IS NOT NULL) AS modes
       FROM stripe_elt_batch`,
    );
    const row = check.getRowObjectsJson()[0] ?? {};
    const held = await this.mode();
    const incoming = batchMode({ foreignRecords: Number(row.foreign_records), firstForeign: row.first_foreign, modes: (row.modes as boolean[] | null) ?? [] }, held, this.description);
    if (incoming && !held) await this.db.run(`INSERT INTO ${this.meta('settings')} (key, value) VALUES ('mode', ${literal(incoming)})`);
  }

  /**
   * Keeps, of the objects the batch holds several times, the newest (see `merge`). Only the
   * small columns go through the window: the objects themselves stay where they are.
   */
  private async keepNewest(): Promise<void> {
    await this.db.run(
      `DELETE FROM stripe_elt_batch WHERE seq IN (
         SELECT seq FROM stripe_elt_batch
         QUALIFY row_number() OVER (PARTITION BY stream, account_id, id ORDER BY observed_at DESC, is_deleted DESC, seq DESC) > 1)`,
    );
  }

  /**
   * The newest state of each object wins: a record replaces a row only if Stripe observed it
   * later (or at the same second and it is a deletion, which is final). A deletion that
   * carries no state (a stub: only id and object) marks the row deleted and keeps its last known
   * data. The rows' data is never read: the merge costs the same however large the table.
   */
  private async merge(stream: string, stubs: boolean): Promise<void> {
    const newer = 's.observed_at > t.observed_at OR (s.observed_at = t.observed_at AND (s.is_deleted OR NOT t.is_deleted))';
    const source = (stub: boolean) =>
      `SELECT account_id, id, livemode, to_timestamp(created) AS created, is_deleted, to_timestamp(observed_at) AS observed_at, data
       FROM stripe_elt_batch WHERE stream = ${literal(stream)} AND (created IS NULL) = ${stub}`;
    const insert = `WHEN NOT MATCHED THEN INSERT (account_id, id, livemode, created, is_deleted, observed_at, synced_at, data)
         VALUES (s.account_id, s.id, s.livemode, s.created, s.is_deleted, s.observed_at, now(), s.data)`;
    await this.db.run(
      `MERGE INTO ${this.raw(stream)} AS t USING (${source(false)}) AS s
       ON t.account_id = s.account_id AND t.id = s.id
       WHEN MATCHED AND (${newer}) THEN UPDATE SET
         livemode = coalesce(s.livemode, t.livemode), created = s.created, is_deleted = s.is_deleted,
         observed_at = s.observed_at, synced_at = now(), data = s.data
       ${insert}`,
    );
    if (!stubs) return;
    await this.db.run(
      `MERGE INTO ${this.raw(stream)} AS t USING (${source(true)}) AS s
       ON t.account_id = s.account_id AND t.id = s.id
       WHEN MATCHED AND (${newer}) THEN UPDATE SET
         livemode = coalesce(s.livemode, t.livemode), is_deleted = s.is_deleted, observed_at = s.observed_at, synced_at = now()
       ${insert}`,
    );
  }

  /** A completed backfill listed every object of its range that exists: the others are gone. */
  private async sweep(stream: string, complete: CompleteBackfill): Promise<number> {
    const result = await this.db.run(
      `UPDATE ${this.raw(stream)} SET is_deleted = true, synced_at = now()
       WHERE account_id = ${literal(complete.account)} AND NOT is_deleted
         AND created BETWEEN to_timestamp(${complete.from}) AND to_timestamp(${complete.to})
         AND observed_at < to_timestamp(${complete.since})`,
    );
    return Number(result.rowsChanged);
  }

  async reset(streams: readonly StreamName[] | 'all'): Promise<void> {
    const names = streams === 'all' ? [...STREAM_NAMES] : streams;
    await this.prepare();
    await this.db.run('BEGIN TRANSACTION');
    try {
      for (const stream of names) {
        await this.db.run(`DROP TABLE IF EXISTS ${this.raw(stream)}`);
        await this.db.run(`DELETE FROM ${this.meta('state')} WHERE stream = ${literal(stream)}`);
      }
      if (streams === 'all') await this.db.run(`DELETE FROM ${this.meta('settings')} WHERE key IN ('mode', 'platform')`);
      await this.db.run('COMMIT');
      for (const stream of names) this.tables.delete(stream);
    } catch (error) {
      await this.db.run('ROLLBACK');
      throw error;
    }
  }

  async rowCounts(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const stream of STREAM_NAMES) {
      if (!this.tables.has(stream)) continue;
      const result = await this.db.runAndReadAll(`SELECT count(*) AS n FROM ${this.raw(stream)}`);
      counts.set(stream, Number(result.getRowObjectsJson()[0]?.n ?? 0));
    }
    return counts;
  }

  queryExample(): string {
    return `duckdb ${this.path} "SELECT account_id, count(*) AS charges, sum((data->>'amount')::BIGINT) AS amount FROM stripe_raw.charges WHERE NOT is_deleted GROUP BY account_id"`;
  }

  async readRows(stream: StreamName): Promise<RawRow[]> {
    if (!this.tables.has(stream)) return [];
    const result = await this.db.runAndReadAll(
      `SELECT account_id, id, livemode, is_deleted, epoch(created)::BIGINT AS created, epoch(observed_at)::BIGINT AS observed_at, data::VARCHAR AS data
       FROM ${this.raw(stream)} ORDER BY account_id, id`,
    );
    return result.getRowObjectsJson().map(rawRow);
  }

  async close(): Promise<void> {
    // Removed while this process still holds the file, so that no other process has opened it meanwhile.
    if (this.connection && this.createdFile && !this.wrote) rmSync(this.path, { force: true });
    this.createdFile = false;
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
  }
}
