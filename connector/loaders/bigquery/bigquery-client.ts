// The BigQuery warehouse client: SQL through query jobs of @google-cloud/bigquery (GoogleSQL, named
// parameters `@name`, typed by this client), rows read from the REST API's pages and converted
// with their schema (so that INT64 and NUMERIC stay exact), and the few dataset, table and load-job
// calls the BigQuery loader and its migrations make. Credentials the Google way (Application
// Default Credentials), or an access token.
//
// What a transaction can be on BigQuery, and its limits:
// - `transaction(work)` runs in a BigQuery session: BEGIN TRANSACTION in a job that creates the
//   session, each statement of `work` a job of that session, then COMMIT TRANSACTION (or ROLLBACK),
//   and the session is ended. Reads inside see the transaction's own writes.
// - A transaction holds queries, DML (INSERT, UPDATE, DELETE, MERGE, TRUNCATE) and temporary
//   tables only: BigQuery refuses to create or drop datasets and permanent tables inside one
//   (create them first: `createDataset`, `createTable`), so migrations are not transactional here.
// - Every statement is a job, a second or more each: a transaction of n statements costs n + 3
//   jobs. `script` runs statements as one multi-statement transaction in a single job instead (the
//   loader's commit), at the price of learning only the rows a whole statement type changed.
// - Snapshot isolation: a transaction reads the tables as they were when it began, and of two
//   transactions that change the same table at once, BigQuery fails one at its commit; this client
//   does not retry it. CURRENT_TIMESTAMP() is the same for every statement of a transaction.
// - A process that dies inside a transaction leaves its session open; BigQuery rolls the
//   transaction back when the session ends (after 24 hours without a job).
import type { TableField, TableMetadata } from '@google-cloud/bigquery';
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { Decimal, Json, ReadOnlyRefusal, TransactionGate, committed, isoTimestamp, type ParameterValue, type Parameters, type QueryResult, type Row, type Session, type Value, type WarehouseClient } from '../../warehouse/client.js';

export interface BigQueryClientOptions {
  /** Where jobs run (the datasets' location); BigQuery tells it from the tables a query names when not given. */
  readonly location?: string;
  /** Another API endpoint than Google's (a proxy, or a local endpoint for tests). */
  readonly apiEndpoint?: string;
  /** An OAuth access token to use instead of Application Default Credentials (default: BIGQUERY_ACCESS_TOKEN). */
  readonly accessToken?: string;
  /** Runs queries only: each is first a dry run, which says what statement BigQuery reads (anything but a SELECT is refused). */
  readonly readOnly?: boolean;
}

/** A query parameter as the REST API takes it. */
interface QueryParameter {
  readonly name: string;
  readonly parameterType: { readonly type: string };
  readonly parameterValue: { readonly value?: string };
}

/** The configuration of a query job, as this client sends it. */
interface QueryJobRequest {
  readonly query: string;
  readonly useLegacySql: false;
  readonly parameterMode?: 'NAMED';
  readonly queryParameters?: QueryParameter[];
  readonly location?: string;
  readonly dryRun?: boolean;
  readonly createSession?: boolean;
  readonly connectionProperties?: { key: string; value: string }[];
}

interface JobStatistics {
  readonly query?: { readonly statementType?: string; readonly numDmlAffectedRows?: string };
  readonly sessionInfo?: { readonly sessionId?: string };
}

/** What this client calls of @google-cloud/bigquery: jobs, datasets, tables. */
interface BigQueryApi {
  createQueryJob(request: QueryJobRequest): Promise<[BigQueryJob, ...unknown[]]>;
  getJobs(options: { parentJobId: string; autoPaginate: boolean }): Promise<[{ metadata?: unknown }[], ...unknown[]]>;
  dataset(name: string, options?: { location?: string }): BigQueryDataset;
}
interface BigQueryJob {
  readonly id?: string | undefined;
  readonly metadata?: unknown;
  /** With `autoPaginate: false`, resolves to the page's rows, the next query and the API's response (the types say less). */
  getQueryResults(options: { autoPaginate: false; skipParsing: true; pageToken?: string }): Promise<unknown[]>;
  getMetadata(): Promise<[unknown, ...unknown[]]>;
}
interface BigQueryDataset {
  exists(): Promise<[boolean]>;
  create(options: { location?: string }): Promise<unknown>;
  createTable(name: string, metadata: TableMetadata): Promise<unknown>;
  getTables(): Promise<[{ id?: string | undefined }[], ...unknown[]]>;
  table(name: string): BigQueryTable;
}
interface BigQueryTable {
  getMetadata(): Promise<[TableMetadata, ...unknown[]]>;
  delete(options: { ignoreNotFound: boolean }): Promise<unknown>;
  load(path: string, metadata: { sourceFormat: string; writeDisposition: string; schema: { fields: TableField[] } }): Promise<unknown>;
}

/** One page of query results, as the REST API sends it (`skipParsing`). */
interface ResultsPage {
  readonly schema?: { readonly fields?: TableField[] };
  readonly rows?: { f: { v: unknown }[] }[];
  readonly pageToken?: string;
  readonly jobComplete?: boolean;
  readonly numDmlAffectedRows?: string;
}

/** An API error of this HTTP status (409: exists already, 404: not found) has nothing to do. */
function unless(status: number): (error: unknown) => void {
  return (error) => {
    if ((error as { code?: unknown }).code !== status) throw error;
  };
}

/** A parameter as the REST API takes it, typed by its JavaScript value (see ParameterValue). */
function queryParameter(name: string, value: ParameterValue): QueryParameter {
  const typed = (type: string, text?: string): QueryParameter => ({ name, parameterType: { type }, parameterValue: text === undefined ? {} : { value: text } });
  if (value === null) return typed('STRING');
  if (value instanceof Date) return typed('TIMESTAMP', value.toISOString());
  switch (typeof value) {
    case 'string':
      return typed('STRING', value);
    case 'boolean':
      return typed('BOOL', String(value));
    case 'bigint':
      return typed('INT64', String(value));
    default:
      return typed(Number.isInteger(value) ? 'INT64' : 'FLOAT64', String(value));
  }
}

function parameters(params: Parameters | undefined): Pick<QueryJobRequest, 'parameterMode' | 'queryParameters'> {
  const entries = Object.entries(params ?? {});
  return entries.length === 0 ? {} : { parameterMode: 'NAMED', queryParameters: entries.map(([name, value]) => queryParameter(name, value)) };
}

/** A TIMESTAMP cell: microseconds since the epoch (`formatOptions.useInt64Timestamp`), or seconds with a fraction. */
function timestampCell(text: string): string {
  if (/^-?\d+$/.test(text)) return isoTimestamp(BigInt(text), 'Z');
  return isoTimestamp(BigInt(Math.round(Number(text) * 1e6)), 'Z');
}

/** A cell of a result page as the port's value (see Value in warehouse/client.ts). */
function cellValue(field: TableField, cell: unknown): Value {
  if (cell === null || cell === undefined) return null;
  if (field.mode === 'REPEATED') return (cell as { v: unknown }[]).map((item) => cellValue({ ...field, mode: 'NULLABLE' }, item.v));
  const text = cell as string;
  switch (String(field.type).toUpperCase()) {
    case 'INTEGER':
    case 'INT64':
      return BigInt(text);
    case 'FLOAT':
    case 'FLOAT64':
      return Number(text);
    case 'NUMERIC':
    case 'BIGNUMERIC':
      return new Decimal(text);
    case 'BOOLEAN':
    case 'BOOL':
      return text === 'true';
    case 'TIMESTAMP':
      return timestampCell(text);
    case 'JSON':
      return new Json(text);
    case 'RECORD':
    case 'STRUCT': {
      const values = (cell as { f: { v: unknown }[] }).f;
      return Object.fromEntries((field.fields ?? []).map((inner, i) => [String(inner.name), cellValue(inner, values[i]?.v)]));
    }
    default:
      // STRING, BYTES (base64), DATE, DATETIME, TIME, INTERVAL, GEOGRAPHY: the API's text.
      return text;
  }
}

/** A field's type as a column's. */
function fieldType(field: TableField): string {
  const type = String(field.type).toUpperCase();
  return field.mode === 'REPEATED' ? `ARRAY<${type}>` : type;
}

class BigQuerySession implements Session {
  readonly dialect = 'bigquery' as const;
  constructor(
    private readonly client: BigQueryClient,
    private readonly sessionId?: string,
  ) {}

  query<R extends Row = Row>(sql: string, params?: Parameters): Promise<QueryResult<R>> {
    return this.client.run(sql, params, this.sessionId).then(({ pages }) => {
      const fields = pages[0]?.schema?.fields ?? [];
      const names = fields.map((field) => String(field.name));
      const rows = pages.flatMap((page) => page.rows ?? []).map((row) => Object.fromEntries(fields.map((field, i) => [names[i], cellValue(field, row.f[i]?.v)])) as R);
      return { columns: fields.map((field, i) => ({ name: names[i] as string, type: fieldType(field) })), rows };
    });
  }

  async execute(sql: string, params?: Parameters): Promise<number> {
    const { job, pages } = await this.client.run(sql, params, this.sessionId);
    const affected = pages[0]?.numDmlAffectedRows;
    if (affected !== undefined) return Number(affected);
    // A script, or a statement that changes no rows (DDL): a script's rows are its statements'.
    const [metadata] = await job.getMetadata();
    if ((metadata as { statistics?: JobStatistics }).statistics?.query?.statementType !== 'SCRIPT' || !job.id) return 0;
    return this.client.rowsChangedByScript(job.id);
  }
}

export class BigQueryClient implements WarehouseClient {
  readonly dialect = 'bigquery' as const;
  readonly description: string;
  private readonly api: BigQueryApi;
  private readonly session = new BigQuerySession(this);
  private readonly gate = new TransactionGate();

  constructor(
    readonly project: string,
    private readonly options: BigQueryClientOptions = {},
  ) {
    this.description = `bigquery:${project}`;
    const token = options.accessToken ?? process.env.BIGQUERY_ACCESS_TOKEN;
    this.api = new BigQuery({
      projectId: project,
      ...(options.location ? { location: options.location } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(token ? { authClient: new OAuth2Client({ credentials: { access_token: token } }) } : {}),
    });
  }

  private get location(): Pick<QueryJobRequest, 'location'> {
    return this.options.location ? { location: this.options.location } : {};
  }

  /** Runs a query job (in a session, if given) to its end: the job and its pages of results. */
  async run(sql: string, params: Parameters | undefined, sessionId?: string, extra: Partial<QueryJobRequest> = {}): Promise<{ job: BigQueryJob; pages: ResultsPage[] }> {
    const [job] = await this.api.createQueryJob({
      query: sql,
      useLegacySql: false,
      ...this.location,
      ...parameters(params),
      ...(sessionId ? { connectionProperties: [{ key: 'session_id', value: sessionId }] } : {}),
      ...extra,
    });
    const pages: ResultsPage[] = [];
    let pageToken: string | undefined;
    for (;;) {
      const results = await job.getQueryResults({ autoPaginate: false, skipParsing: true, ...(pageToken ? { pageToken } : {}) });
      const page = results[2] as ResultsPage;
      // A query still running is asked again; a finished one, for its next page if it has one.
      if (page.jobComplete === false) continue;
      pages.push(page);
      if (!page.pageToken) return { job, pages };
      pageToken = page.pageToken;
    }
  }

  async query<R extends Row = Row>(sql: string, params?: Parameters): Promise<QueryResult<R>> {
    await this.gate.passed();
    if (this.options.readOnly) {
      const type = await this.statementType(sql, params);
      if (type !== 'SELECT') throw new ReadOnlyRefusal(this.description, type);
    }
    return this.session.query<R>(sql, params);
  }

  async execute(sql: string, params?: Parameters): Promise<number> {
    await this.gate.passed();
    this.writable('EXECUTE');
    return this.session.execute(sql, params);
  }

  /** A client opened to read only refuses to write, before asking BigQuery anything. */
  private writable(statementType: string): void {
    if (this.options.readOnly) throw new ReadOnlyRefusal(this.description, statementType);
  }

  async transaction<T>(work: (transaction: Session) => Promise<T>): Promise<T> {
    this.writable('TRANSACTION');
    return this.gate.hold(async () => {
      const { job } = await this.run('BEGIN TRANSACTION', undefined, undefined, { createSession: true });
      const sessionOf = (metadata: unknown) => (metadata as { statistics?: JobStatistics } | undefined)?.statistics?.sessionInfo?.sessionId;
      const sessionId = sessionOf(job.metadata) ?? sessionOf((await job.getMetadata())[0]);
      if (!sessionId) throw new Error(`BigQuery did not open a session for a transaction on ${this.description}`);
      const session = new BigQuerySession(this, sessionId);
      try {
        return await committed(session, work, { commit: 'COMMIT TRANSACTION', rollback: 'ROLLBACK TRANSACTION' });
      } finally {
        // Ending the session also rolls back a transaction that could not be.
        await this.run('CALL BQ.ABORT_SESSION()', undefined, sessionId).catch(() => undefined);
      }
    });
  }

  /**
   * Runs statements as one multi-statement transaction in a single job (one job instead of one
   * each, see above); the script's job id, for `rowsChangedByScript`.
   */
  async script(statements: readonly string[], params: Parameters): Promise<string> {
    await this.gate.passed();
    this.writable('SCRIPT');
    const { job } = await this.run(['BEGIN TRANSACTION', ...statements, 'COMMIT TRANSACTION'].join(';\n').concat(';'), params);
    return job.id ?? '';
  }

  /** The rows a script's statements (of one type, if given) changed, from its child jobs: BigQuery runs each statement of a script as one. */
  async rowsChangedByScript(jobId: string, statementType?: string): Promise<number> {
    const [children] = await this.api.getJobs({ parentJobId: jobId, autoPaginate: true });
    let rows = 0;
    for (const child of children) {
      const statistics = (child.metadata as { statistics?: JobStatistics } | undefined)?.statistics?.query;
      if (statementType === undefined || statistics?.statementType === statementType) rows += Number(statistics?.numDmlAffectedRows ?? 0);
    }
    return rows;
  }

  /** The type of statement BigQuery reads in `sql` (SELECT, INSERT, CREATE_TABLE, SCRIPT…), from a dry run: nothing is run. */
  async statementType(sql: string, params?: Parameters): Promise<string> {
    const [job] = await this.api.createQueryJob({ query: sql, useLegacySql: false, ...this.location, ...parameters(params), dryRun: true });
    return (job.metadata as { statistics?: JobStatistics } | undefined)?.statistics?.query?.statementType ?? 'UNKNOWN';
  }

  async datasetExists(name: string): Promise<boolean> {
    const [exists] = await this.api.dataset(name).exists();
    return exists;
  }

  /** Creates a dataset in the client's location (US if none), unless it exists. */
  async createDataset(name: string): Promise<void> {
    const location = this.options.location ?? 'US';
    await this.api.dataset(name, { location }).create({ location }).catch(unless(409));
  }

  /** A table's fields, or undefined if it does not exist. */
  async tableFields(dataset: string, table: string): Promise<TableField[] | undefined> {
    try {
      const [metadata] = await this.api.dataset(dataset).table(table).getMetadata();
      return metadata.schema?.fields ?? [];
    } catch (error) {
      unless(404)(error);
      return undefined;
    }
  }

  /** Creates a table, unless it exists. */
  async createTable(dataset: string, table: string, metadata: TableMetadata): Promise<void> {
    await this.api.dataset(dataset).createTable(table, metadata).catch(unless(409));
  }

  async deleteTable(dataset: string, table: string): Promise<void> {
    await this.api.dataset(dataset).table(table).delete({ ignoreNotFound: true });
  }

  async tableNames(dataset: string): Promise<string[]> {
    const [tables] = await this.api.dataset(dataset).getTables();
    return tables.map((table) => String(table.id));
  }

  /** Replaces a table's rows with a newline-delimited JSON file's, with a load job. */
  async loadFile(path: string, dataset: string, table: string, fields: TableField[]): Promise<void> {
    await this.api.dataset(dataset).table(table).load(path, { sourceFormat: 'NEWLINE_DELIMITED_JSON', writeDisposition: 'WRITE_TRUNCATE', schema: { fields } });
  }

  async close(): Promise<void> {
    // The client holds no connection: each call is a request.
    await this.gate.passed();
  }
}
