// The BigQuery warehouse, for when one machine is not enough. Datasets `stripe_raw`,
// `stripe_marts` and `stripe_elt` (a prefix allowed) in the given location; credentials the
// Google way (Application Default Credentials, GOOGLE_APPLICATION_CREDENTIALS). A batch goes up
// with a load job (newline-delimited JSON) into a staging table, then one multi-statement
// transaction merges it into the raw tables under the newest-state rule, stores the states and
// marks deleted what completed backfills no longer list. No streaming inserts. Opening checks
// that the tables of ours that exist have our schema and that its migrations ledger is one this
// release continues, and creates nothing: the first write applies the migrations, which create
// the datasets and tables. Everything goes through the BigQuery client.
import { randomUUID } from 'node:crypto';
import type { TableField, TableMetadata } from '@google-cloud/bigquery';
import type { Mode } from '../../config.js';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { STREAM_NAMES, isStreamName, type StreamName } from '../../streams/catalog.js';
import type { StreamState } from '../../sync/state.js';
import type { Parameters } from '../../warehouse/client.js';
import { checkLedger, describeResults, migrate, migrationFailure, type MigrationReport } from '../../warehouse/migrations.js';
import type { BatchFile } from '../batch.js';
import { RECEIVED_EVENTS_KEPT_DAYS, batchMode, batchPlatform, storedStates, warehouseNames, type CommitResult, type Loader, type ObjectKey, type ReceivedEvent, type WarehouseNames } from '../loader.js';
import { newCompleteBackfills } from '../sweeps.js';
import { columnDifferences, otherColumns } from '../table-check.js';
import { BigQueryClient } from './bigquery-client.js';
import { BigQueryLedger, bigqueryMigrations } from './migrations.js';
import { META_FIELDS, RAW_FIELDS, fieldTypes } from './tables.js';

export interface BigQueryLoaderOptions {
  /** The location of new datasets, where jobs run (default US). */
  readonly location?: string;
  /** A prefix for the dataset names (stripe_raw, stripe_marts, stripe_elt). */
  readonly datasetPrefix?: string;
  /** Another API endpoint than Google's (a proxy, or a local endpoint for tests). */
  readonly apiEndpoint?: string;
  /** An OAuth access token to use instead of Application Default Credentials. */
  readonly accessToken?: string;
  /** Told of the migrations applied. */
  readonly logger?: Logger;
}

/** The batch file's lines, as the staging table holds them. */
const BATCH_FIELDS: TableField[] = [
  { name: 'seq', type: 'INT64' },
  { name: 'type', type: 'STRING' },
  {
    name: 'record',
    type: 'RECORD',
    fields: [
      { name: 'stream', type: 'STRING' },
      { name: 'data', type: 'JSON' },
      { name: 'emitted_at', type: 'INT64' },
    ],
  },
];

const BATCH_TABLE = 'batch';

/**
 * BigQuery has no lock: a load holds the warehouse with a lease in the settings table (the writer's
 * id and the time of its last commit), taken and renewed by each of its commits, in the commit's
 * transaction. Another load's commit fails while the lease is younger than this; a load that died
 * frees the warehouse this long after its last commit.
 */
const LEASE_SECONDS = 15 * 60;
const LEASE_TAKEN = 'stripe-elt: another load holds this warehouse';
const LEASE_LOST = 'stripe-elt: another load took this warehouse over';

/** A field of the record's data, as text. */
function field(name: string): string {
  return `JSON_VALUE(record.data, '$.${name}')`;
}

export class BigQueryLoader implements Loader {
  readonly description: string;
  /** The client the loader writes through: commands query the warehouse through it too. */
  readonly client: BigQueryClient;
  readonly names: WarehouseNames;
  /** The datasets, and the tables (as `dataset.table`), known to exist. */
  private readonly datasets = new Set<string>();
  private readonly tables = new Set<string>();
  private migrated = false;
  /** This loader's lease (see LEASE_SECONDS), and whether one of its commits took it. */
  private readonly writer = randomUUID();
  private leased = false;
  /**
   * The states and mode as this loader's last commit left them, so that the next commit need not
   * ask BigQuery (each query job costs a second or more). A later commit succeeds only if the
   * lease is still this loader's (see `transaction`), so no other load has changed them in between.
   */
  private known: { states: Map<StreamName, StreamState>; mode: Mode | null; platform: string | null } | undefined;

  constructor(
    readonly project: string,
    private readonly options: BigQueryLoaderOptions = {},
  ) {
    this.description = `bigquery:${project}`;
    this.names = warehouseNames(options.datasetPrefix ?? '');
    this.client = new BigQueryClient(project, {
      location: options.location ?? 'US',
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(options.accessToken ? { accessToken: options.accessToken } : {}),
    });
  }

  private ref(dataset: string, table: string): string {
    return `\`${this.project}.${dataset}.${table}\``;
  }

  private raw(stream: string): string {
    return this.ref(this.names.raw, stream);
  }

  private meta(table: string): string {
    return this.ref(this.names.meta, table);
  }

  /**
   * Runs the statements in one transaction, which first takes or renews this loader's lease. The
   * first commit takes it if no other load holds a live one. Every later commit asserts that the
   * lease is still this loader's: another load takes the writer row over once this one's lease
   * lapses (and deletes it when it ends), and writer ids are never reused, so a row that is
   * still ours means nobody wrote in between, and the states and mode this loader remembers hold.
   * Returns the script's job id.
   */
  private async transaction(statements: readonly string[], params: Parameters): Promise<string> {
    const settings = this.meta('settings');
    const held = this.leased
      ? `ASSERT EXISTS (SELECT 1 FROM ${settings} WHERE key = 'writer' AND value = @writer) AS '${LEASE_LOST}'`
      : `ASSERT NOT EXISTS (
         SELECT 1 FROM ${settings} AS w JOIN ${settings} AS t ON t.key = 'writer_at'
         WHERE w.key = 'writer' AND w.value != @writer AND SAFE_CAST(t.value AS INT64) > UNIX_SECONDS(CURRENT_TIMESTAMP()) - ${LEASE_SECONDS}) AS '${LEASE_TAKEN}'`;
    const lease = [
      held,
      `DELETE FROM ${settings} WHERE key IN ('writer', 'writer_at')`,
      `INSERT INTO ${settings} (key, value) VALUES ('writer', @writer), ('writer_at', CAST(UNIX_SECONDS(CURRENT_TIMESTAMP()) AS STRING))`,
    ];
    try {
      const job = await this.client.script([...lease, ...statements], { ...params, writer: this.writer });
      this.leased = true;
      return job;
    } catch (error) {
      const message = (error as Error).message;
      if (message.includes(LEASE_LOST)) {
        this.leased = false;
        this.known = undefined;
        throw new UserError(
          `Another load took ${this.description} over after the lease of this one lapsed (its last commit was more than ${LEASE_SECONDS / 60} minutes ago), so what this load knew of the ` +
            "warehouse's states and mode no longer holds: this commit wrote nothing. Run it again; it goes on from the warehouse's last commit.",
          'transient_error',
        );
      }
      if (!message.includes(LEASE_TAKEN)) throw error;
      throw new UserError(
        `Another load is writing to ${this.description} (it committed less than ${LEASE_SECONDS / 60} minutes ago): one writer at a time, and this one wrote nothing. ` +
          `Wait for it to finish; a load that stopped without finishing frees the warehouse ${LEASE_SECONDS / 60} minutes after its last commit.`,
        'transient_error',
      );
    }
  }

  private async ensureTable(dataset: string, table: string, metadata: TableMetadata): Promise<void> {
    const key = `${dataset}.${table}`;
    if (this.tables.has(key)) return;
    await this.client.createTable(dataset, table, metadata);
    this.tables.add(key);
  }

  /** Checks, creating nothing, that the datasets' tables of ours that exist have our schema, and that its ledger is one this release continues. */
  async open(): Promise<void> {
    try {
      for (const name of [this.names.raw, this.names.marts, this.names.meta]) {
        if (await this.client.datasetExists(name)) this.datasets.add(name);
      }
      const ours: [string, string, TableField[]][] = [];
      if (this.datasets.has(this.names.meta)) for (const [table, fields] of META_FIELDS) ours.push([this.names.meta, table, fields]);
      if (this.datasets.has(this.names.raw)) for (const stream of await this.existingRawTables()) ours.push([this.names.raw, stream, RAW_FIELDS]);
      await Promise.all(ours.map(([dataset, table, fields]) => this.checkTable(dataset, table, fields)));
      if (this.tables.has(`${this.names.meta}.migrations`)) {
        const ledger = new BigQueryLedger(this.client, this.names);
        checkLedger(await ledger.read(), bigqueryMigrations(this.names), ledger);
      }
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`Cannot open the BigQuery warehouse ${this.description}: ${(error as Error).message}. Check the project, and the credentials (gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS).`);
    }
  }

  /** A table of ours, if it exists, must have our fields and types. */
  private async checkTable(dataset: string, table: string, fields: readonly TableField[]): Promise<void> {
    const actual = await this.client.tableFields(dataset, table);
    if (actual === undefined) return;
    const differences = columnDifferences(fieldTypes(actual), fieldTypes(fields));
    if (differences.length > 0) throw otherColumns(this.description, `${dataset}.${table}`, differences, "give stripe-elt's datasets another name with --dataset-prefix, or another project");
    this.tables.add(`${dataset}.${table}`);
  }

  exists(): boolean {
    return [...META_FIELDS.keys()].some((table) => this.tables.has(`${this.names.meta}.${table}`));
  }

  /**
   * Applies the migrations the warehouse lacks (all of them to a new one; a warehouse written
   * before the ledger is adopted), once, before the first write; the result of each.
   */
  async migrate(): Promise<MigrationReport> {
    if (this.migrated) return { results: [], hadLedger: true };
    const report = await migrate(new BigQueryLedger(this.client, this.names), bigqueryMigrations(this.names));
    if (report.results.length > 0) {
      const upgraded = report.hadLedger || report.results.some((r) => r.status === 'adopted');
      const sentence = `${upgraded ? 'Upgraded' : 'Created'} the bookkeeping of ${this.description}: ${describeResults(report.results)}.`;
      if (upgraded) this.options.logger?.info({ migrations: report.results }, sentence);
      else this.options.logger?.debug({ migrations: report.results }, sentence);
    }
    if (report.error !== undefined) throw migrationFailure(this.description, report);
    // A new ledger was created with the datasets; one found may be beside a dataset removed since.
    for (const dataset of [this.names.raw, this.names.marts, this.names.meta]) {
      if (report.hadLedger && !this.datasets.has(dataset)) await this.client.createDataset(dataset);
      this.datasets.add(dataset);
    }
    for (const table of META_FIELDS.keys()) this.tables.add(`${this.names.meta}.${table}`);
    this.migrated = true;
    return report;
  }

  private async ensureRawTable(stream: string): Promise<void> {
    // Partitioned by day of creation, clustered by account: the filters analysts use.
    await this.ensureTable(this.names.raw, stream, {
      schema: { fields: RAW_FIELDS },
      timePartitioning: { type: 'DAY', field: 'created' },
      clustering: { fields: ['account_id'] },
    });
  }

  /** The mode and the platform the warehouse holds, in one query job (each costs a second or more). */
  private async held(): Promise<{ mode: Mode | null; platform: string | null }> {
    if (!this.tables.has(`${this.names.meta}.settings`)) return { mode: null, platform: null };
    const { rows } = await this.client.query(`SELECT key, value FROM ${this.meta('settings')} WHERE key IN ('mode', 'platform')`);
    const value = (key: string) => rows.find((row) => row.key === key)?.value;
    const mode = value('mode');
    const platform = value('platform');
    return { mode: mode === 'test' || mode === 'live' ? mode : null, platform: typeof platform === 'string' ? platform : null };
  }

  async mode(): Promise<Mode | null> {
    return (await this.held()).mode;
  }

  async platform(): Promise<string | null> {
    return (await this.held()).platform;
  }

  async states(): Promise<Map<StreamName, StreamState>> {
    if (!this.tables.has(`${this.names.meta}.state`)) return new Map();
    return storedStates((await this.client.query(`SELECT stream, TO_JSON_STRING(state) AS state FROM ${this.meta('state')}`)).rows, this.description);
  }

  async commit(batch: BatchFile, states: ReadonlyMap<StreamName, StreamState>, received: readonly ReceivedEvent[] = []): Promise<CommitResult> {
    await this.migrate();
    for (const stream of new Set([...batch.streams, ...states.keys()])) await this.ensureRawTable(stream);
    const statements: string[] = [];
    const params: Record<string, string | number> = {};
    let newMode: Mode | null = null;
    const settings = this.known ?? (await this.held());
    const held = settings.mode;
    // Another platform's states are refused before anything goes up.
    const previous = this.known?.states ?? (await this.states());
    const heldPlatform = settings.platform;
    const newPlatform = batchPlatform(heldPlatform, previous, states, this.description);
    if (batch.records > 0) {
      await this.client.loadFile(batch.path, this.names.meta, BATCH_TABLE, BATCH_FIELDS);
      newMode = await this.checkRecords(held);
      for (const stream of batch.streams) statements.push(this.mergeStatement(stream));
    }
    if (newPlatform) {
      statements.push(`INSERT INTO ${this.meta('settings')} (key, value) VALUES ('platform', @platform)`);
      params.platform = newPlatform;
    }
    let n = 0;
    let sweeps = 0;
    for (const [stream, state] of states) {
      for (const complete of newCompleteBackfills(previous.get(stream), state)) {
        statements.push(
          `UPDATE ${this.raw(stream)} SET is_deleted = TRUE, synced_at = CURRENT_TIMESTAMP()
           WHERE account_id = @account_${n} AND NOT is_deleted
             AND created BETWEEN TIMESTAMP_SECONDS(@from_${n}) AND TIMESTAMP_SECONDS(@to_${n})
             AND observed_at < TIMESTAMP_SECONDS(@since_${n})`,
        );
        Object.assign(params, { [`account_${n}`]: complete.account, [`from_${n}`]: complete.from, [`to_${n}`]: complete.to, [`since_${n}`]: complete.since });
        n++;
        sweeps++;
      }
      statements.push(
        `MERGE INTO ${this.meta('state')} AS t
         USING (SELECT @stream_${n} AS stream, PARSE_JSON(@state_${n}) AS state) AS s ON t.stream = s.stream
         WHEN MATCHED THEN UPDATE SET state = s.state, updated_at = CURRENT_TIMESTAMP()
         WHEN NOT MATCHED THEN INSERT (stream, state, updated_at) VALUES (s.stream, s.state, CURRENT_TIMESTAMP())`,
      );
      Object.assign(params, { [`stream_${n}`]: stream, [`state_${n}`]: JSON.stringify(state) });
      n++;
    }
    if (newMode && !held) {
      statements.push(`INSERT INTO ${this.meta('settings')} (key, value) VALUES ('mode', @mode)`);
      params.mode = newMode;
    }
    if (received.length > 0) statements.push(...this.recordReceived(received, params));
    if (statements.length === 0) return { swept: 0 };
    const job = await this.transaction(statements, params);
    this.known = { states: new Map([...previous, ...states]), mode: held ?? newMode, platform: heldPlatform ?? newPlatform };
    // A commit's only UPDATEs are its sweeps.
    return { swept: sweeps > 0 ? await this.client.rowsChangedByScript(job, 'UPDATE') : 0 };
  }

  /** The statements that remember the events received (see `Loader.commit`) and forget those older than RECEIVED_EVENTS_KEPT_DAYS; their parameters go to `params`. */
  private recordReceived(received: readonly ReceivedEvent[], params: Record<string, string | number>): string[] {
    const rows = received.map((event, i) => {
      Object.assign(params, { [`event_id_${i}`]: event.id, [`event_account_${i}`]: event.account_id, [`event_type_${i}`]: event.type, [`event_created_${i}`]: event.created });
      return `SELECT @event_id_${i} AS id, @event_account_${i} AS account_id, @event_type_${i} AS type, @event_created_${i} AS created`;
    });
    params.forget_before = Math.floor(Date.now() / 1000) - RECEIVED_EVENTS_KEPT_DAYS * 86_400;
    return [
      `MERGE INTO ${this.meta('webhook_events')} AS t USING (${rows.join(' UNION ALL ')}) AS s ON t.id = s.id
       WHEN NOT MATCHED THEN INSERT (id, account_id, type, created, received_at) VALUES (s.id, s.account_id, s.type, TIMESTAMP_SECONDS(s.created), CURRENT_TIMESTAMP())`,
      `DELETE FROM ${this.meta('webhook_events')} WHERE received_at < TIMESTAMP_SECONDS(@forget_before)`,
    ];
  }

  async receivedEvents(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0 || !this.tables.has(`${this.names.meta}.webhook_events`)) return new Set();
    const params = Object.fromEntries(ids.map((id, i) => [`id_${i}`, id]));
    const { rows } = await this.client.query(`SELECT id FROM ${this.meta('webhook_events')} WHERE id IN (${ids.map((_, i) => `@id_${i}`).join(', ')})`, params);
    return new Set(rows.map((row) => String(row.id)));
  }

  async observedAt(stream: StreamName, objects: readonly ObjectKey[]): Promise<Map<string, number>> {
    if (objects.length === 0 || !this.tables.has(`${this.names.raw}.${stream}`)) return new Map();
    const params: Record<string, string> = {};
    const wanted = objects.map((object, i) => {
      Object.assign(params, { [`account_${i}`]: object.account_id, [`id_${i}`]: object.id });
      return `(account_id = @account_${i} AND id = @id_${i})`;
    });
    const { rows } = await this.client.query(`SELECT account_id, id, UNIX_SECONDS(observed_at) AS observed_at FROM ${this.raw(stream)} WHERE ${wanted.join(' OR ')}`, params);
    return new Map(rows.map((row) => [`${String(row.account_id)}/${String(row.id)}`, Number(row.observed_at)]));
  }

  /** Every record must be one of ours and of the warehouse's mode; returns the records' mode. */
  private async checkRecords(held: Mode | null): Promise<Mode | null> {
    const staging = this.meta(BATCH_TABLE);
    const {
      rows: [foreign],
    } = await this.client.query(
      `SELECT SUM(IF(${field('account_id')} IS NULL OR ${field('id')} IS NULL OR ${field('observed_at')} IS NULL, 1, 0)) AS foreign_records,
              MIN(IF(${field('account_id')} IS NULL OR ${field('id')} IS NULL OR ${field('observed_at')} IS NULL, seq, NULL)) AS first_foreign
       FROM ${staging}`,
    );
    const { rows: modes } = await this.client.query(`SELECT DISTINCT SAFE_CAST(${field('livemode')} AS BOOL) AS livemode FROM ${staging} WHERE ${field('livemode')} IS NOT NULL`);
    const check = { foreignRecords: Number(foreign?.foreign_records ?? 0), firstForeign: foreign?.first_foreign, modes: modes.map((m) => m.livemode === true) };
    return batchMode(check, held, this.description);
  }

  /** The same newest-state rule as the DuckDB warehouse (see duckdb-loader.ts). */
  private mergeStatement(stream: string): string {
    return `MERGE INTO ${this.raw(stream)} AS t
      USING (
        SELECT * FROM (
          SELECT ${field('account_id')} AS account_id, ${field('id')} AS id,
                 SAFE_CAST(${field('livemode')} AS BOOL) AS livemode,
                 TIMESTAMP_SECONDS(SAFE_CAST(${field('created')} AS INT64)) AS created,
                 COALESCE(SAFE_CAST(${field('deleted')} AS BOOL), FALSE) AS is_deleted,
                 TIMESTAMP_SECONDS(SAFE_CAST(${field('observed_at')} AS INT64)) AS observed_at,
                 ${field('created')} IS NULL AS is_stub,
                 record.data AS data,
                 ROW_NUMBER() OVER (
                   PARTITION BY ${field('account_id')}, ${field('id')}
                   ORDER BY SAFE_CAST(${field('observed_at')} AS INT64) DESC, COALESCE(SAFE_CAST(${field('deleted')} AS BOOL), FALSE) DESC, seq DESC) AS newest
          FROM ${this.meta(BATCH_TABLE)} WHERE record.stream = '${stream}')
        WHERE newest = 1) AS s
      ON t.account_id = s.account_id AND t.id = s.id
      WHEN MATCHED AND (s.observed_at > t.observed_at OR (s.observed_at = t.observed_at AND (s.is_deleted OR NOT t.is_deleted))) THEN UPDATE SET
        livemode = COALESCE(s.livemode, t.livemode),
        created = COALESCE(s.created, t.created),
        is_deleted = s.is_deleted,
        observed_at = s.observed_at,
        synced_at = CURRENT_TIMESTAMP(),
        data = IF(s.is_stub, t.data, s.data)
      WHEN NOT MATCHED THEN INSERT (account_id, id, livemode, created, is_deleted, observed_at, synced_at, data)
        VALUES (s.account_id, s.id, s.livemode, s.created, s.is_deleted, s.observed_at, CURRENT_TIMESTAMP(), s.data)`;
  }

  async reset(streams: readonly StreamName[] | 'all'): Promise<void> {
    const names = streams === 'all' ? [...STREAM_NAMES] : streams;
    await this.migrate();
    // The state goes first: a reset stopped half way then leaves tables whose streams are read
    // again from the start, never a state that says rows are loaded when their table is gone.
    const params: Record<string, string> = {};
    names.forEach((stream, i) => (params[`stream_${i}`] = stream));
    const statements = names.map((_, i) => `DELETE FROM ${this.meta('state')} WHERE stream = @stream_${i}`);
    if (streams === 'all') statements.push(`DELETE FROM ${this.meta('settings')} WHERE key IN ('mode', 'platform')`);
    await this.transaction(statements, params);
    this.known = undefined;
    for (const stream of names) {
      await this.client.deleteTable(this.names.raw, stream);
      this.tables.delete(`${this.names.raw}.${stream}`);
    }
  }

  private async existingRawTables(): Promise<string[]> {
    if (!this.datasets.has(this.names.raw)) return [];
    return (await this.client.tableNames(this.names.raw)).filter(isStreamName);
  }

  async close(): Promise<void> {
    // The lease is given back for the next load.
    if (!this.leased) return;
    this.leased = false;
    const settings = this.meta('settings');
    await this.client
      .execute(`DELETE FROM ${settings} WHERE key IN ('writer', 'writer_at') AND EXISTS (SELECT 1 FROM ${settings} WHERE key = 'writer' AND value = @writer)`, { writer: this.writer })
      .catch(() => undefined); // it expires anyway
  }
}
