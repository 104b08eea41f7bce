// The DuckDB warehouse: one file, nothing to run. Raw tables in the `stripe_raw` schema, the
// bookkeeping in `stripe_elt`, all in the same file, so that records and the state after them
// commit in one transaction. Batches are read in bulk with read_json and merged with MERGE.
// Opening checks everything it can before any work (the file can be written, it is a stripe-elt
// warehouse or new, its migrations ledger is one this release continues, no other process holds
// it) and creates nothing: the first write applies the migrations, which create the schemas and
// the bookkeeping tables. All its SQL goes through the DuckDB client.
import { rmSync } from 'node:fs';
import type { Mode } from '../../config.js';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { STREAM_NAMES, type StreamName } from '../../streams/catalog.js';
import type { StreamState } from '../../sync/state.js';
import type { Session } from '../../warehouse/client.js';
import { checkLedger, describeResults, migrate, migrationFailure, type MigrationReport } from '../../warehouse/migrations.js';
import type { BatchFile } from '../batch.js';
import { RECEIVED_EVENTS_KEPT_DAYS, batchMode, batchPlatform, storedStates, warehouseNames, type CommitResult, type Loader, type ObjectKey, type ReceivedEvent, type WarehouseNames } from '../loader.js';
import { newCompleteBackfills, type CompleteBackfill } from '../sweeps.js';
import { checkCatalog } from './catalog-check.js';
import { DuckDBClient } from './duckdb-client.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, sizeInBytes } from './memory-limit.js';
import { DuckDBLedger, duckdbMigrations } from './migrations.js';
import { literal, quote } from './sql.js';
import { META_TABLES, RAW_TABLE, createTableStatement } from './tables.js';
import { checkTarget, removeLeftoverSpill } from './target.js';

export { DEFAULT_DUCKDB_MEMORY_LIMIT, sizeInBytes };

export interface DuckDBLoaderOptions {
  /** The memory DuckDB may use (default DEFAULT_DUCKDB_MEMORY_LIMIT). */
  readonly memoryLimit?: string;
  /** DuckDB's worker threads (default: one per core). */
  readonly threads?: number;
  /** Told of the migrations applied. */
  readonly logger?: Logger;
}

export class DuckDBLoader implements Loader {
  readonly description: string;
  readonly names: WarehouseNames = warehouseNames();
  private opened: DuckDBClient | undefined;
  /** The raw tables the file holds, by stream, and the tables of its bookkeeping schema. */
  private readonly tables = new Set<string>();
  private readonly metaTables = new Set<string>();
  /** A file this loader created and has not written to since (a write of nothing, a refused reset) is removed when it closes. */
  private createdFile = false;
  private wrote = false;
  private migrated = false;
  private readonly memoryLimit: string;

  constructor(
    readonly path: string,
    private readonly options: DuckDBLoaderOptions = {},
  ) {
    this.description = `duckdb:${path}`;
    this.memoryLimit = options.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT;
  }

  /** The client the loader writes through, once it is open: commands query the warehouse through it too. */
  get client(): DuckDBClient {
    if (!this.opened) throw new Error('the DuckDB warehouse is not open');
    return this.opened;
  }

  private raw(stream: string): string {
    return `${quote(this.names.raw)}.${quote(stream)}`;
  }

  private meta(table: string): string {
    return `${quote(this.names.meta)}.${quote(table)}`;
  }

  async open(): Promise<void> {
    const { exists } = checkTarget(this.path);
    this.opened = await DuckDBClient.open(this.path, { memoryLimit: this.memoryLimit, ...(this.options.threads ? { threads: this.options.threads } : {}) });
    this.createdFile = !exists;
    try {
      const catalog = await checkCatalog(this.client, this.names, this.path);
      for (const table of catalog.rawTables) this.tables.add(table);
      for (const table of catalog.metaTables) this.metaTables.add(table);
      // A ledger this release cannot continue is refused now, before any work.
      if (this.metaTables.has('migrations')) {
        const ledger = new DuckDBLedger(this.client, this.names);
        checkLedger(await ledger.read(), duckdbMigrations(this.names), ledger);
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    removeLeftoverSpill(this.path);
  }

  exists(): boolean {
    return this.metaTables.size > 0;
  }

  /**
   * Applies the migrations the warehouse lacks (all of them to a new one; a warehouse written
   * before the ledger is adopted), once, before the first write; the result of each.
   */
  async migrate(): Promise<MigrationReport> {
    if (this.migrated) return { results: [], hadLedger: true };
    const report = await migrate(new DuckDBLedger(this.client, this.names), duckdbMigrations(this.names));
    if (report.results.length > 0) {
      this.wrote = true;
      const upgraded = report.hadLedger || report.results.some((r) => r.status === 'adopted');
      const sentence = `${upgraded ? 'Upgraded' : 'Created'} the bookkeeping of ${this.description}: ${describeResults(report.results)}.`;
      if (upgraded) this.options.logger?.info({ migrations: report.results }, sentence);
      else this.options.logger?.debug({ migrations: report.results }, sentence);
    }
    if (report.error !== undefined) throw migrationFailure(this.description, report);
    for (const table of META_TABLES.keys()) this.metaTables.add(table);
    this.migrated = true;
    return report;
  }

  async mode(session: Session = this.client): Promise<Mode | null> {
    const value = await this.setting(session, 'mode');
    return value === 'test' || value === 'live' ? value : null;
  }

  async platform(session: Session = this.client): Promise<string | null> {
    return (await this.setting(session, 'platform')) ?? null;
  }

  private async setting(session: Session, key: string): Promise<string | undefined> {
    if (!this.metaTables.has('settings')) return undefined;
    const { rows } = await session.query(`SELECT value FROM ${this.meta('settings')} WHERE key = $key`, { key });
    const value = rows[0]?.value;
    return typeof value === 'string' ? value : undefined;
  }

  async states(session: Session = this.client): Promise<Map<StreamName, StreamState>> {
    if (!this.metaTables.has('state')) return new Map();
    const { rows } = await session.query(`SELECT stream, state FROM ${this.meta('state')}`);
    return storedStates(rows, this.description);
  }

  private async ensureTable(stream: string): Promise<void> {
    if (this.tables.has(stream)) return;
    this.wrote = true;
    await this.client.execute(createTableStatement(this.raw(stream), RAW_TABLE));
    this.tables.add(stream);
  }

  async commit(batch: BatchFile, states: ReadonlyMap<StreamName, StreamState>, received: readonly ReceivedEvent[] = []): Promise<CommitResult> {
    // Outside the transaction, so that a rollback leaves the tables as this loader knows them.
    await this.migrate();
    for (const stream of new Set([...batch.streams, ...states.keys()])) await this.ensureTable(stream);
    try {
      return await this.client.transaction(async (session) => {
        let swept = 0;
        const previous = await this.states(session);
        const platform = batchPlatform(await this.platform(session), previous, states, this.description);
        if (platform) await session.execute(`INSERT INTO ${this.meta('settings')} VALUES ('platform', $platform)`, { platform });
        if (batch.records > 0) {
          // The fields the merge needs come out of each object in one parse, into typed columns.
          await session.execute(
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
          await this.checkRecords(session);
          await this.keepNewest(session);
          const withStubs = await this.streamsWithStubs(session);
          for (const stream of batch.streams) await this.merge(session, stream, withStubs.has(stream));
        }
        for (const [stream, state] of states) {
          for (const complete of newCompleteBackfills(previous.get(stream), state)) swept += await this.sweep(session, stream, complete);
          await session.execute(
            `INSERT INTO ${this.meta('state')} (stream, state, updated_at) VALUES ($stream, $state, now())
             ON CONFLICT (stream) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
            { stream, state: JSON.stringify(state) },
          );
        }
        if (received.length > 0) await this.recordReceived(session, received);
        return { swept };
      });
    } catch (error) {
      if (/Out of Memory Error/.test((error as Error).message)) {
        throw new UserError(
          `DuckDB ran out of memory within its limit of ${this.memoryLimit} while committing a batch of ${batch.records} records, and committed none of it. ` +
            `Give it more with --duckdb-memory-limit (such as ${Math.round(((sizeInBytes(this.memoryLimit) ?? 128e6) * 2) / 1e6)}MB, twice that), then run again: the load goes on from its last commit.`,
        );
      }
      throw error;
    }
  }

  /** Remembers the events received (see `Loader.commit`), and forgets those older than RECEIVED_EVENTS_KEPT_DAYS. */
  private async recordReceived(session: Session, received: readonly ReceivedEvent[]): Promise<void> {
    await session.execute(
      `INSERT INTO ${this.meta('webhook_events')} (id, account_id, type, created, received_at)
       SELECT e.id, e.account_id, e.type, to_timestamp(e.created), now()
       FROM (SELECT unnest(from_json($events, '[{"id":"VARCHAR","account_id":"VARCHAR","type":"VARCHAR","created":"BIGINT"}]')) AS e)
       ON CONFLICT (id) DO NOTHING`,
      { events: JSON.stringify(received.map(({ id, account_id, type, created }) => ({ id, account_id, type, created }))) },
    );
    await session.execute(`DELETE FROM ${this.meta('webhook_events')} WHERE received_at < now() - to_days(${RECEIVED_EVENTS_KEPT_DAYS})`);
  }

  async receivedEvents(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0 || !this.metaTables.has('webhook_events')) return new Set();
    const { rows } = await this.client.query(`SELECT id FROM ${this.meta('webhook_events')} WHERE id IN (SELECT unnest(from_json($ids, '["VARCHAR"]')))`, { ids: JSON.stringify(ids) });
    return new Set(rows.map((row) => String(row.id)));
  }

  async observedAt(stream: StreamName, objects: readonly ObjectKey[]): Promise<Map<string, number>> {
    if (objects.length === 0 || !this.tables.has(stream)) return new Map();
    const { rows } = await this.client.query(
      `SELECT t.account_id, t.id, epoch(t.observed_at)::BIGINT AS observed_at FROM ${this.raw(stream)} AS t
       JOIN (SELECT unnest(from_json($objects, '[{"account_id":"VARCHAR","id":"VARCHAR"}]'), recursive := true)) AS o USING (account_id, id)`,
      { objects: JSON.stringify(objects.map(({ account_id, id }) => ({ account_id, id }))) },
    );
    return new Map(rows.map((row) => [`${String(row.account_id)}/${String(row.id)}`, Number(row.observed_at)]));
  }

  private async streamsWithStubs(session: Session): Promise<Set<string>> {
    const { rows } = await session.query('SELECT DISTINCT stream FROM stripe_elt_batch WHERE created IS NULL');
    return new Set(rows.map((row) => String(row.stream)));
  }

  /** Every record must be one of ours (an account and a time of observation) and of the warehouse's mode. */
  private async checkRecords(session: Session): Promise<void> {
    const { rows } = await session.query(
      `SELECT count(*) FILTER (WHERE account_id IS NULL OR id IS NULL OR observed_at IS NULL) AS foreign_records,
              min(seq) FILTER (WHERE account_id IS NULL OR id IS NULL OR observed_at IS NULL) AS first_foreign,
              list(DISTINCT livemode) FILTER (WHERE livemode IS NOT NULL) AS modes
       FROM stripe_elt_batch`,
    );
    const row = rows[0] ?? {};
    const held = await this.mode(session);
    const incoming = batchMode({ foreignRecords: Number(row.foreign_records), firstForeign: row.first_foreign, modes: (row.modes as boolean[] | null) ?? [] }, held, this.description);
    if (incoming && !held) await session.execute(`INSERT INTO ${this.meta('settings')} (key, value) VALUES ('mode', $mode)`, { mode: incoming });
  }

  /**
   * Keeps, of the objects the batch holds several times, the newest (see `merge`). Only the
   * small columns go through the window: the objects themselves stay where they are.
   */
  private async keepNewest(session: Session): Promise<void> {
    await session.execute(
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
  private async merge(session: Session, stream: string, stubs: boolean): Promise<void> {
    const newer = 's.observed_at > t.observed_at OR (s.observed_at = t.observed_at AND (s.is_deleted OR NOT t.is_deleted))';
    const source = (stub: boolean) =>
      `SELECT account_id, id, livemode, to_timestamp(created) AS created, is_deleted, to_timestamp(observed_at) AS observed_at, data
       FROM stripe_elt_batch WHERE stream = $stream AND (created IS NULL) = ${stub}`;
    const insert = `WHEN NOT MATCHED THEN INSERT (account_id, id, livemode, created, is_deleted, observed_at, synced_at, data)
         VALUES (s.account_id, s.id, s.livemode, s.created, s.is_deleted, s.observed_at, now(), s.data)`;
    await session.execute(
      `MERGE INTO ${this.raw(stream)} AS t USING (${source(false)}) AS s
       ON t.account_id = s.account_id AND t.id = s.id
       WHEN MATCHED AND (${newer}) THEN UPDATE SET
         livemode = coalesce(s.livemode, t.livemode), created = s.created, is_deleted = s.is_deleted,
         observed_at = s.observed_at, synced_at = now(), data = s.data
       ${insert}`,
      { stream },
    );
    if (!stubs) return;
    await session.execute(
      `MERGE INTO ${this.raw(stream)} AS t USING (${source(true)}) AS s
       ON t.account_id = s.account_id AND t.id = s.id
       WHEN MATCHED AND (${newer}) THEN UPDATE SET
         livemode = coalesce(s.livemode, t.livemode), is_deleted = s.is_deleted, observed_at = s.observed_at, synced_at = now()
       ${insert}`,
      { stream },
    );
  }

  /** A completed backfill listed every object of its range that exists: the others are gone. */
  private sweep(session: Session, stream: string, complete: CompleteBackfill): Promise<number> {
    return session.execute(
      `UPDATE ${this.raw(stream)} SET is_deleted = true, synced_at = now()
       WHERE account_id = $account AND NOT is_deleted
         AND created BETWEEN to_timestamp($from) AND to_timestamp($to)
         AND observed_at < to_timestamp($since)`,
      { account: complete.account, from: complete.from, to: complete.to, since: complete.since },
    );
  }

  async reset(streams: readonly StreamName[] | 'all'): Promise<void> {
    const names = streams === 'all' ? [...STREAM_NAMES] : streams;
    await this.migrate();
    await this.client.transaction(async (session) => {
      for (const stream of names) {
        await session.execute(`DROP TABLE IF EXISTS ${this.raw(stream)}`);
        await session.execute(`DELETE FROM ${this.meta('state')} WHERE stream = $stream`, { stream });
      }
      if (streams === 'all') await session.execute(`DELETE FROM ${this.meta('settings')} WHERE key IN ('mode', 'platform')`);
    });
    for (const stream of names) this.tables.delete(stream);
  }

  async close(): Promise<void> {
    // Removed while this process still holds the file, so that no other process has opened it meanwhile.
    if (this.opened && this.createdFile && !this.wrote) rmSync(this.path, { force: true });
    this.createdFile = false;
    await this.opened?.close();
    this.opened = undefined;
  }
}
