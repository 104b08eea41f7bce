// The DuckDB warehouse: one file, nothing to run. Raw tables in the `stripe_raw` schema, the
// state and settings in `stripe_elt`, all in the same file, so that records and the state after
// them commit in one transaction. Batches are read in bulk with read_json and merged with MERGE.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Mode } from '../../config.js';
import { UserError } from '../../errors.js';
import { STREAM_NAMES, type StreamName } from '../../streams/catalog.js';
import { StreamStateSchema, type StreamState } from '../../sync/state.js';
import type { BatchFile } from '../batch.js';
import { modeMismatch, warehouseNames, type CommitResult, type Loader, type RawRow, type WarehouseNames } from '../loader.js';
import { newCompleteBackfills } from '../sweeps.js';

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** DuckDB's lock message names the process that holds the file. */
function lockHolder(message: string): string | null {
  return /Conflicting lock is held in (.*?)(?: \(PID (\d+)\))?[.\s]/.exec(message)?.[2] ?? null;
}

export class DuckDBLoader implements Loader {
  readonly description: string;
  private readonly names: WarehouseNames;
  private instance: DuckDBInstance | undefined;
  private connection: DuckDBConnection | undefined;
  private readonly tables = new Set<string>();

  constructor(readonly path: string) {
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
    try {
      this.instance = await DuckDBInstance.create(this.path);
    } catch (error) {
      const message = (error as Error).message;
      if (/lock/i.test(message)) {
        const pid = lockHolder(message);
        throw new UserError(
          `Another load is running on ${this.path}${pid ? ` (process ${pid})` : ''}: one writer at a time. Wait for it to finish, or stop it.`,
          'transient_error',
        );
      }
      throw new UserError(`Cannot open the DuckDB warehouse ${this.path}: ${message}`);
    }
    this.connection = await this.instance.connect();
    await this.db.run(`CREATE SCHEMA IF NOT EXISTS ${quote(this.names.raw)}`);
    await this.db.run(`CREATE SCHEMA IF NOT EXISTS ${quote(this.names.marts)}`);
    await this.db.run(`CREATE SCHEMA IF NOT EXISTS ${quote(this.names.meta)}`);
    await this.db.run(`CREATE TABLE IF NOT EXISTS ${this.meta('state')} (stream VARCHAR PRIMARY KEY, state JSON NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`);
    await this.db.run(`CREATE TABLE IF NOT EXISTS ${this.meta('settings')} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`);
    const existing = await this.db.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = ${literal(this.names.raw)}`);
    for (const row of existing.getRowObjectsJson()) this.tables.add(String(row.table_name));
  }

  async mode(): Promise<Mode | null> {
    const result = await this.db.runAndReadAll(`SELECT value FROM ${this.meta('settings')} WHERE key = 'mode'`);
    const value = result.getRowObjectsJson()[0]?.value;
    return value === 'test' || value === 'live' ? value : null;
  }

  async states(): Promise<Map<StreamName, StreamState>> {
    const result = await this.db.runAndReadAll(`SELECT stream, state FROM ${this.meta('state')}`);
    const states = new Map<StreamName, StreamState>();
    for (const row of result.getRowObjectsJson()) {
      const parsed = StreamStateSchema.safeParse(JSON.parse(String(row.state)));
      if (!parsed.success) throw new UserError(`The state of ${String(row.stream)} in ${this.description} is not one this version wrote; reset the stream.`);
      states.set(String(row.stream) as StreamName, parsed.data);
    }
    return states;
  }

  private async ensureTable(stream: string): Promise<void> {
    if (this.tables.has(stream)) return;
    await this.db.run(
      `CREATE TABLE IF NOT EXISTS ${this.raw(stream)} (
        account_id VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        livemode BOOLEAN,
        created TIMESTAMPTZ,
        is_deleted BOOLEAN NOT NULL,
        observed_at TIMESTAMPTZ NOT NULL,
        synced_at TIMESTAMPTZ NOT NULL,
        data JSON NOT NULL,
        PRIMARY KEY (account_id, id))`,
    );
    this.tables.add(stream);
  }

  async commit(batch: BatchFile, states: ReadonlyMap<StreamName, StreamState>): Promise<CommitResult> {
    const db = this.db;
    const rows = new Map<string, number>();
    let swept = 0;
    for (const stream of batch.streams) {
      if (!(STREAM_NAMES as readonly string[]).includes(stream)) throw new UserError(`A record names an unknown stream "${stream}".`);
      await this.ensureTable(stream);
    }
    await db.run('BEGIN TRANSACTION');
    try {
      if (batch.records > 0) {
        await db.run(
          `CREATE OR REPLACE TEMP TABLE stripe_elt_batch AS
           SELECT seq, record.stream AS stream, record.data AS data
           FROM read_json(${literal(batch.path)}, format = 'newline_delimited',
             columns = {seq: 'BIGINT', type: 'VARCHAR', record: 'STRUCT(stream VARCHAR, data JSON, emitted_at BIGINT)'})`,
        );
        await this.checkRecords();
        for (const stream of batch.streams) rows.set(stream, await this.merge(stream));
      }
      const previous = await this.states();
      for (const [stream, state] of states) {
        await this.ensureTable(stream);
        for (const complete of newCompleteBackfills(previous.get(stream), state)) swept += await this.sweep(stream, complete);
        await db.run(
          `INSERT INTO ${this.meta('state')} VALUES (${literal(stream)}, ${literal(JSON.stringify(state))}, now())
           ON CONFLICT (stream) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        );
      }
      await db.run('COMMIT');
    } catch (error) {
      await db.run('ROLLBACK');
      throw error;
    }
    return { rows, swept };
  }

  /** Every record must be one of ours (an account and a time of observation) and of the warehouse's mode. */
  private async checkRecords(): Promise<void> {
    const check = await this.db.runAndReadAll(
      `SELECT count(*) FILTER (WHERE (data->>'account_id') IS NULL OR (data->>'id') IS NULL OR (data->>'observed_at') IS NULL) AS foreign_records,
              min(seq) FILTER (WHERE (data->>'account_id') IS NULL OR (data->>'id') IS NULL OR (data->>'observed_at') IS NULL) AS first_foreign,
              list(DISTINCT (data->>'livemode')::BOOLEAN) FILTER (WHERE (data->>'livemode') IS NOT NULL) AS modes
       FROM stripe_elt_batch`,
    );
    const row = check.getRowObjectsJson()[0] ?? {};
    if (Number(row.foreign_records) > 0) {
      throw new UserError(
        `${String(row.foreign_records)} records lack account_id, id or observed_at (the first is record ${String(row.first_foreign)} of the batch): ` +
          'the warehouse loads the records of stripe-elt read.',
      );
    }
    const modes = (row.modes as boolean[] | null) ?? [];
    if (modes.length > 1) throw new UserError('The records mix test-mode and live-mode data; one warehouse holds one mode.');
    if (modes.length === 0) return;
    const incoming: Mode = modes[0] ? 'live' : 'test';
    const held = await this.mode();
    if (held && held !== incoming) throw new UserError(modeMismatch(this.description, held, incoming));
    if (!held) await this.db.run(`INSERT INTO ${this.meta('settings')} VALUES ('mode', ${literal(incoming)})`);
  }

  /**
   * The newest state of each object wins: a record replaces a row only if Stripe observed it
   * later (or at the same second and it is a deletion, which is final). A deletion that
   * carries no state (only id and object) keeps the row's last known data.
   */
  private async merge(stream: string): Promise<number> {
    const result = await this.db.run(
      `MERGE INTO ${this.raw(stream)} AS t
       USING (
         SELECT * FROM (
           SELECT data->>'account_id' AS account_id, data->>'id' AS id,
                  (data->>'livemode')::BOOLEAN AS livemode,
                  to_timestamp((data->>'created')::BIGINT) AS created,
                  coalesce((data->>'deleted')::BOOLEAN, false) AS is_deleted,
                  to_timestamp((data->>'observed_at')::BIGINT) AS observed_at,
                  (data->>'created') IS NULL AS is_stub,
                  data,
                  row_number() OVER (
                    PARTITION BY data->>'account_id', data->>'id'
                    ORDER BY (data->>'observed_at')::BIGINT DESC, coalesce((data->>'deleted')::BOOLEAN, false) DESC, seq DESC) AS newest
           FROM stripe_elt_batch WHERE stream = ${literal(stream)})
         WHERE newest = 1) AS s
       ON t.account_id = s.account_id AND t.id = s.id
       WHEN MATCHED AND (s.observed_at > t.observed_at OR (s.observed_at = t.observed_at AND (s.is_deleted OR NOT t.is_deleted))) THEN UPDATE SET
         livemode = coalesce(s.livemode, t.livemode),
         created = coalesce(s.created, t.created),
         is_deleted = s.is_deleted,
         observed_at = s.observed_at,
         synced_at = now(),
         data = CASE WHEN s.is_stub THEN t.data ELSE s.data END
       WHEN NOT MATCHED THEN INSERT (account_id, id, livemode, created, is_deleted, observed_at, synced_at, data)
         VALUES (s.account_id, s.id, s.livemode, s.created, s.is_deleted, s.observed_at, now(), s.data)`,
    );
    return Number(result.rowsChanged);
  }

  /** A completed backfill listed every object of its range that exists: the others are gone. */
  private async sweep(stream: string, complete: { account: string; from: number; to: number }): Promise<number> {
    const result = await this.db.run(
      `UPDATE ${this.raw(stream)} SET is_deleted = true, synced_at = now()
       WHERE account_id = ${literal(complete.account)} AND NOT is_deleted
         AND created BETWEEN to_timestamp(${complete.from}) AND to_timestamp(${complete.to})
         AND observed_at < to_timestamp(${complete.to})`,
    );
    return Number(result.rowsChanged);
  }

  async reset(streams: readonly StreamName[] | 'all'): Promise<void> {
    const names = streams === 'all' ? [...STREAM_NAMES] : streams;
    await this.db.run('BEGIN TRANSACTION');
    try {
      for (const stream of names) {
        await this.db.run(`DROP TABLE IF EXISTS ${this.raw(stream)}`);
        await this.db.run(`DELETE FROM ${this.meta('state')} WHERE stream = ${literal(stream)}`);
        this.tables.delete(stream);
      }
      if (streams === 'all') await this.db.run(`DELETE FROM ${this.meta('settings')} WHERE key = 'mode'`);
      await this.db.run('COMMIT');
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
    return result.getRowObjectsJson().map((row) => ({
      account_id: String(row.account_id),
      id: String(row.id),
      livemode: row.livemode === null ? null : Boolean(row.livemode),
      is_deleted: Boolean(row.is_deleted),
      created: row.created === null ? null : Number(row.created),
      observed_at: Number(row.observed_at),
      data: JSON.parse(String(row.data)) as Record<string, unknown>,
    }));
  }

  async close(): Promise<void> {
    this.connection?.closeSync();
    this.instance?.closeSync();
    this.connection = undefined;
    this.instance = undefined;
  }
}
