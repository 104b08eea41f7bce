// A local HTTP endpoint that plays BigQuery's REST API for the calls the @google-cloud/bigquery
// client makes on behalf of the BigQuery warehouse client: datasets and tables (get, insert, list,
// delete), load jobs by multipart upload, query jobs (dry runs, sessions and their transactions
// included) and their results. Every query is checked with a BigQuery-dialect parser
// (sql-parser-cst) and then run, translated, on DuckDB, which holds the datasets as schemas: the
// SQL is executed for real, not just recorded. Each session runs on a DuckDB connection of its
// own, so that its transaction spans its jobs as BigQuery's does. Requests are kept for tests to
// assert on.
import { randomUUID } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { parse as parseSql } from 'sql-parser-cst';
import { duckdbType, toDuckDB } from './translate.js';

interface Field {
  name: string;
  type: string;
  mode?: string;
  fields?: Field[];
}

interface TableResource {
  tableReference: { projectId: string; datasetId: string; tableId: string };
  schema: { fields: Field[] };
  timePartitioning?: { type: string; field?: string };
  clustering?: { fields: string[] };
}

interface QueryParameter {
  name: string;
  parameterType: { type: string };
  parameterValue: { value?: string | null };
}

interface JobResource {
  kind: 'bigquery#job';
  id: string;
  jobReference: { projectId: string; jobId: string; location: string };
  configuration: Record<string, unknown>;
  status: { state: 'DONE'; errorResult?: { reason: string; message: string }; errors?: { reason: string; message: string }[] };
  statistics: Record<string, unknown>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** The JSON body; for an upload, the job's metadata. */
  readonly body: unknown;
  /** For an upload, the uploaded data. */
  readonly upload?: string;
}

interface QueryResult {
  schema: { fields: Field[] };
  rows: { f: { v: unknown }[] }[];
}

/** A job, and what its results are (not part of the resource). */
type FakeJob = JobResource & { result?: QueryResult; numDmlAffectedRows?: string };

interface QueryConfiguration {
  query: string;
  queryParameters?: QueryParameter[];
  createSession?: boolean;
  connectionProperties?: { key: string; value: string }[];
}

export class FakeBigQuery {
  readonly requests: RecordedRequest[] = [];
  /** Every SQL text a query job carried, as sent. */
  readonly queries: string[] = [];
  private readonly datasets = new Map<string, { location: string }>();
  private readonly tables = new Map<string, TableResource>();
  private readonly jobs = new Map<string, FakeJob>();
  /** Each session's own connection. */
  private readonly sessions = new Map<string, DuckDBConnection>();
  private readonly server: Server;
  private readonly scratch = mkdtempSync(join(tmpdir(), 'fake-bigquery-'));
  private db!: DuckDBConnection;
  private instance!: DuckDBInstance;
  /** Operations run one at a time, as in a single BigQuery session. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.server = createServer((req, res) => {
      this.queue = this.queue.then(() => this.handle(req, res)).catch((error: unknown) => sendJson(res, 500, { error: { code: 500, message: String(error) } }));
    });
  }

  /** The endpoint's address, once started. */
  url = '';

  async start(): Promise<string> {
    this.instance = await DuckDBInstance.create(':memory:');
    this.db = await this.instance.connect();
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const session of this.sessions.values()) session.closeSync();
    this.db.closeSync();
    this.instance.closeSync();
    rmSync(this.scratch, { recursive: true, force: true });
  }

  /** The definition of a table, as tables.insert received it. */
  table(dataset: string, table: string): TableResource | undefined {
    return this.tables.get(`${dataset}.${table}`);
  }

  /** The configurations of the jobs of one kind (`load` or `query`) sent by the client, in order (not a script's child jobs). */
  jobConfigurations(kind: 'load' | 'query'): Record<string, unknown>[] {
    return [...this.jobs.values()]
      .filter((job) => job.statistics.parentJobId === undefined)
      .map((job) => job.configuration[kind] as Record<string, unknown> | undefined)
      .filter((c): c is Record<string, unknown> => c !== undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const raw = await readBody(req);
    const query = Object.fromEntries(url.searchParams);
    const path = url.pathname;
    const contentType = req.headers['content-type'] ?? '';
    if (path.startsWith('/upload/bigquery/v2/') && contentType.startsWith('multipart/related')) {
      const [metadata, data] = parseMultipart(raw, contentType);
      this.requests.push({ method: req.method ?? 'GET', path, query, body: metadata, upload: data });
      return this.loadJob(res, metadata as { configuration: { load: Record<string, unknown> }; jobReference: { jobId: string; projectId: string; location?: string } }, data);
    }
    const body: unknown = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    this.requests.push({ method: req.method ?? 'GET', path, query, body });
    const parts = path.replace(/^\/bigquery\/v2\//, '').split('/');
    const [, project = '', collection, name, sub, subName] = parts;
    const method = req.method ?? 'GET';
    if (collection === 'datasets' && name === undefined && method === 'POST') return this.createDataset(res, body as { datasetReference: { datasetId: string }; location?: string });
    if (collection === 'datasets' && name !== undefined && sub === undefined && method === 'GET') {
      const dataset = this.datasets.get(name);
      if (!dataset) return notFound(res, `Not found: Dataset ${project}:${name}`);
      return sendJson(res, 200, { kind: 'bigquery#dataset', id: `${project}:${name}`, datasetReference: { projectId: project, datasetId: name }, location: dataset.location });
    }
    if (collection === 'datasets' && name !== undefined && sub === 'tables') {
      if (!this.datasets.has(name)) return notFound(res, `Not found: Dataset ${project}:${name}`);
      if (subName === undefined && method === 'POST') return this.createTable(res, project, name, body as TableResource);
      if (subName === undefined && method === 'GET') {
        const tables = [...this.tables.values()].filter((t) => t.tableReference.datasetId === name);
        return sendJson(res, 200, { kind: 'bigquery#tableList', tables: tables.map((t) => ({ kind: 'bigquery#table', id: `${project}:${name}.${t.tableReference.tableId}`, tableReference: t.tableReference })), totalItems: tables.length });
      }
      const table = subName ? this.tables.get(`${name}.${subName}`) : undefined;
      if (method === 'GET') return table ? sendJson(res, 200, { kind: 'bigquery#table', ...table }) : notFound(res, `Not found: Table ${project}:${name}.${subName}`);
      if (method === 'DELETE') {
        if (!table) return notFound(res, `Not found: Table ${project}:${name}.${subName}`);
        await this.db.run(`DROP TABLE IF EXISTS "${name}"."${subName}"`);
        this.tables.delete(`${name}.${subName}`);
        res.writeHead(204).end();
        return;
      }
    }
    if (collection === 'jobs' && name === undefined && method === 'POST') return this.queryJob(res, project, body as { configuration: { query: QueryConfiguration; dryRun?: boolean }; jobReference?: { jobId?: string; location?: string } });
    if (collection === 'jobs' && name === undefined && method === 'GET') {
      // jobs.list: the local endpoint lists a script's child jobs (parentJobId), newest first as BigQuery does.
      const parent = query.parentJobId;
      if (!parent) return sendJson(res, 400, { error: { code: 400, message: 'the local BigQuery endpoint lists child jobs only (parentJobId)' } });
      const children = [...this.jobs.values()].filter((job) => job.statistics.parentJobId === parent).reverse();
      return sendJson(res, 200, { kind: 'bigquery#jobList', jobs: children.map((job) => ({ ...jobView(job), state: job.status.state })) });
    }
    if (collection === 'jobs' && name !== undefined && method === 'GET') {
      const job = this.jobs.get(name);
      return job ? sendJson(res, 200, jobView(job)) : notFound(res, `Not found: Job ${project}:${name}`);
    }
    if (collection === 'queries' && name !== undefined && method === 'GET') {
      const job = this.jobs.get(name);
      if (!job) return notFound(res, `Not found: Job ${project}:${name}`);
      if (job.status.errorResult) return sendJson(res, 400, { error: { code: 400, message: job.status.errorResult.message, errors: job.status.errors } });
      const result = job.result ?? { schema: { fields: [] }, rows: [] };
      // Timestamps in microseconds when asked (the client always asks), else in seconds.
      const micros = query['formatOptions.useInt64Timestamp'] === 'true';
      const rows = result.rows.map((row) => ({ f: row.f.map((cell, i) => (result.schema.fields[i]?.type === 'TIMESTAMP' && cell.v !== null && !micros ? { v: String(Number(cell.v) / 1e6) } : cell)) }));
      return sendJson(res, 200, {
        kind: 'bigquery#getQueryResultsResponse',
        jobReference: job.jobReference,
        jobComplete: true,
        schema: result.schema,
        rows,
        totalRows: String(rows.length),
        ...(job.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: job.numDmlAffectedRows } : {}),
      });
    }
    return sendJson(res, 404, { error: { code: 404, message: `the local BigQuery endpoint does not play ${method} ${path}` } });
  }

  private async createDataset(res: ServerResponse, body: { datasetReference: { datasetId: string }; location?: string }): Promise<void> {
    const name = body.datasetReference.datasetId;
    if (this.datasets.has(name)) return sendJson(res, 409, { error: { code: 409, message: `Already Exists: Dataset ${name}` } });
    this.datasets.set(name, { location: body.location ?? 'US' });
    await this.db.run(`CREATE SCHEMA "${name}"`);
    sendJson(res, 200, { kind: 'bigquery#dataset', datasetReference: body.datasetReference, location: body.location ?? 'US' });
  }

  private async createTable(res: ServerResponse, project: string, dataset: string, body: TableResource): Promise<void> {
    const name = body.tableReference.tableId;
    if (this.tables.has(`${dataset}.${name}`)) return sendJson(res, 409, { error: { code: 409, message: `Already Exists: Table ${project}:${dataset}.${name}` } });
    await this.defineTable(dataset, name, body.schema.fields);
    const resource: TableResource = { ...body, tableReference: { projectId: project, datasetId: dataset, tableId: name } };
    this.tables.set(`${dataset}.${name}`, resource);
    sendJson(res, 200, { kind: 'bigquery#table', ...resource });
  }

  private async defineTable(dataset: string, table: string, fields: Field[]): Promise<void> {
    const columns = fields.map((f) => `"${f.name}" ${duckdbType(f)}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`).join(', ');
    await this.db.run(`CREATE OR REPLACE TABLE "${dataset}"."${table}" (${columns})`);
  }

  private newJob(project: string, jobId: string | undefined, location: string | undefined, configuration: Record<string, unknown>): FakeJob {
    const id = jobId ?? randomUUID();
    const job: FakeJob = {
      kind: 'bigquery#job',
      id: `${project}:${location ?? 'US'}.${id}`,
      jobReference: { projectId: project, jobId: id, location: location ?? 'US' },
      configuration,
      status: { state: 'DONE' },
      statistics: { creationTime: String(Date.now()), startTime: String(Date.now()), endTime: String(Date.now()) },
    };
    this.jobs.set(id, job);
    return job;
  }

  private async loadJob(res: ServerResponse, metadata: { configuration: { load: Record<string, unknown> }; jobReference: { jobId: string; projectId: string; location?: string } }, data: string): Promise<void> {
    const load = metadata.configuration.load as { destinationTable: { datasetId: string; tableId: string }; sourceFormat?: string; writeDisposition?: string; schema?: { fields: Field[] } };
    const job = this.newJob(metadata.jobReference.projectId, metadata.jobReference.jobId, metadata.jobReference.location, { load });
    try {
      if (load.sourceFormat !== 'NEWLINE_DELIMITED_JSON') throw new Error(`the local endpoint loads NEWLINE_DELIMITED_JSON only, not ${String(load.sourceFormat)}`);
      const key = `${load.destinationTable.datasetId}.${load.destinationTable.tableId}`;
      const fields = load.schema?.fields ?? this.tables.get(key)?.schema.fields;
      if (!fields) throw new Error(`Not found: Table ${key} (and no schema given)`);
      if (load.writeDisposition === 'WRITE_TRUNCATE' || !this.tables.has(key)) {
        await this.defineTable(load.destinationTable.datasetId, load.destinationTable.tableId, fields);
        this.tables.set(key, { tableReference: { projectId: metadata.jobReference.projectId, datasetId: load.destinationTable.datasetId, tableId: load.destinationTable.tableId }, schema: { fields } });
      }
      const file = join(this.scratch, `${job.jobReference.jobId}.ndjson`);
      writeFileSync(file, data);
      const columns = fields.map((f) => `${JSON.stringify(f.name).replaceAll('"', "'")}: '${duckdbType(f).replaceAll("'", "''")}'`).join(', ');
      const result = await this.db.run(`INSERT INTO "${load.destinationTable.datasetId}"."${load.destinationTable.tableId}" SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {${columns}})`);
      job.statistics.load = { outputRows: String(result.rowsChanged) };
      rmSync(file);
    } catch (error) {
      job.status.errorResult = { reason: 'invalid', message: (error as Error).message };
      job.status.errors = [job.status.errorResult];
    }
    sendJson(res, 200, jobView(job));
  }

  private async queryJob(res: ServerResponse, project: string, body: { configuration: { query: QueryConfiguration; dryRun?: boolean }; jobReference?: { jobId?: string; location?: string } }): Promise<void> {
    const config = body.configuration.query;
    const sql = config.query;
    this.queries.push(sql);
    let kinds: string[];
    try {
      const program = parseSql(sql, { dialect: 'bigquery', paramTypes: ['@name'] });
      kinds = program.statements.filter((statement) => statement.type !== 'empty').map((statement) => statementType(statement.type));
    } catch (error) {
      // BigQuery refuses what it cannot parse, before running anything.
      return sendJson(res, 400, { error: { code: 400, message: `Syntax error: ${(error as Error).message.split('\n')[0]}`, status: 'INVALID_ARGUMENT' } });
    }
    const location = body.jobReference?.location;
    const job = this.newJob(project, body.jobReference?.jobId, location, { query: config, ...(body.configuration.dryRun ? { dryRun: true } : {}) });
    const script = kinds.length > 1;
    job.statistics.query = { statementType: script ? 'SCRIPT' : (kinds[0] ?? 'SELECT') };
    // A dry run says what it would run, and runs nothing.
    if (body.configuration.dryRun) return sendJson(res, 200, jobView(job));
    const params = new Map<string, string>();
    for (const p of config.queryParameters ?? []) params.set(p.name, sqlLiteral(p));
    const sessionId = config.connectionProperties?.find((p) => p.key === 'session_id')?.value ?? (config.createSession ? randomUUID() : undefined);
    try {
      if (config.createSession && sessionId) this.sessions.set(sessionId, await this.instance.connect());
      const db = sessionId ? this.sessions.get(sessionId) : this.db;
      if (!db) throw new Error(`Session ${sessionId} was not found or has ended`);
      if (sessionId) job.statistics.sessionInfo = { sessionId };
      if (/^\s*CALL\s+BQ\.ABORT_SESSION\s*\(\s*\)\s*;?\s*$/i.test(sql) && sessionId) {
        await db.run('ROLLBACK').catch(() => undefined);
        db.closeSync();
        this.sessions.delete(sessionId);
        return sendJson(res, 200, jobView(job));
      }
      const statements = await db.extractStatements(toDuckDB(this.withInformationSchema(project, sql), params));
      // A dataset a script creates (CREATE SCHEMA) is a dataset, as one made through the API is.
      for (const created of sql.matchAll(/\bCREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?`(?:[^`.]+\.)?([^`.]+)`/gi)) {
        if (!this.datasets.has(created[1] as string)) this.datasets.set(created[1] as string, { location: 'US' });
      }
      for (let i = 0; i < statements.count; i++) {
        const prepared = await statements.prepare(i);
        const result = await prepared.runAndReadAll();
        const type = kinds[i] ?? 'UNKNOWN';
        if (i === statements.count - 1 && result.columnCount > 0) job.result = queryResult(result.columnNames(), result.columnTypes(), result.getRows());
        if (!script && DML.has(type)) job.numDmlAffectedRows = String(result.rowsChanged);
        // A script runs each statement as a child job, with its own statistics.
        if (script) {
          const child = this.newJob(project, undefined, location, { query: { query: `(statement ${i + 1} of job ${job.jobReference.jobId})` } });
          child.statistics.parentJobId = job.jobReference.jobId;
          child.statistics.query = { statementType: type, ...(DML.has(type) ? { numDmlAffectedRows: String(result.rowsChanged) } : {}) };
        }
      }
      if (!script && job.numDmlAffectedRows !== undefined) job.statistics.query = { statementType: kinds[0] ?? 'SELECT', numDmlAffectedRows: job.numDmlAffectedRows };
      if (script) job.statistics.numChildJobs = String(statements.count);
    } catch (error) {
      // A failed script leaves nothing behind, as BigQuery's transactions do.
      if (/BEGIN\s+TRANSACTION/i.test(sql) && !sessionId) await this.db.run('ROLLBACK').catch(() => undefined);
      job.status.errorResult = { reason: 'invalidQuery', message: (error as Error).message };
      job.status.errors = [job.status.errorResult];
    }
    sendJson(res, 200, jobView(job));
  }

  /**
   * `dataset`.INFORMATION_SCHEMA.TABLES as DuckDB's catalog of that schema, with BigQuery's
   * refusal of a dataset that does not exist.
   */
  private withInformationSchema(project: string, sql: string): string {
    return sql.replace(/`([^`.]+)`\.INFORMATION_SCHEMA\.TABLES/gi, (_, dataset: string) => {
      if (!this.datasets.has(dataset)) throw new Error(`Not found: Dataset ${project}:${dataset} was not found in location US`);
      return `(SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = '${dataset}')`;
    });
  }
}

const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** BigQuery's name for a statement's type (statistics.query.statementType), from the parser's. */
function statementType(node: string): string {
  if (node === 'start_transaction_stmt') return 'BEGIN_TRANSACTION';
  if (node === 'compound_select_stmt') return 'SELECT';
  return node.replace(/_stmt$/, '').toUpperCase();
}

/** A query parameter as a DuckDB literal of its type. */
function sqlLiteral(parameter: QueryParameter): string {
  const value = parameter.parameterValue.value;
  if (value === null || value === undefined) return 'NULL';
  switch (parameter.parameterType.type) {
    case 'INT64':
      if (!/^-?\d+$/.test(value)) throw new Error(`Invalid INT64 value ${value} of query parameter ${parameter.name}`);
      return `CAST(${value} AS BIGINT)`;
    case 'FLOAT64':
      return `CAST('${value}' AS DOUBLE)`;
    case 'BOOL':
      return value === 'true' ? 'true' : 'false';
    case 'TIMESTAMP':
      return `CAST('${value.replaceAll("'", "''")}' AS TIMESTAMPTZ)`;
    case 'STRING':
      return `'${value.replaceAll("'", "''")}'`;
    default:
      throw new Error(`the local BigQuery endpoint has no query parameters of type ${parameter.parameterType.type}`);
  }
}

function jobView(job: FakeJob): JobResource {
  const { result: _result, numDmlAffectedRows: _rows, ...view } = job;
  return view;
}

/** DuckDB values in the REST API's row format ({f: [{v}]}), with BigQuery's type names; timestamps in microseconds. */
function queryResult(names: string[], types: DuckDBType[], rows: DuckDBValue[][]): QueryResult {
  const bigqueryType = (type: DuckDBType | undefined): string => {
    switch (type?.typeId) {
      case DuckDBTypeId.TINYINT:
      case DuckDBTypeId.SMALLINT:
      case DuckDBTypeId.INTEGER:
      case DuckDBTypeId.BIGINT:
      case DuckDBTypeId.HUGEINT:
      case DuckDBTypeId.UBIGINT:
        return 'INTEGER';
      case DuckDBTypeId.DECIMAL:
        return 'NUMERIC';
      case DuckDBTypeId.FLOAT:
      case DuckDBTypeId.DOUBLE:
        return 'FLOAT';
      case DuckDBTypeId.BOOLEAN:
        return 'BOOLEAN';
      case DuckDBTypeId.TIMESTAMP:
      case DuckDBTypeId.TIMESTAMP_TZ:
        return 'TIMESTAMP';
      case DuckDBTypeId.DATE:
        return 'DATE';
      default:
        return type?.alias === 'JSON' ? 'JSON' : 'STRING';
    }
  };
  const fields = names.map((name, i) => ({ name, type: bigqueryType(types[i]), mode: 'NULLABLE' }));
  return {
    schema: { fields },
    rows: rows.map((row) => ({
      f: row.map((value, i) => {
        if (value === null || value === undefined) return { v: null };
        if (fields[i]?.type === 'TIMESTAMP') return { v: String((value as { micros: bigint }).micros) };
        return { v: String(value) };
      }),
    })),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A multipart/related upload: the job's JSON metadata, then the data. */
function parseMultipart(body: Buffer, contentType: string): [unknown, string] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error('multipart upload without a boundary');
  const text = body.toString('utf8');
  const parts = text.split(`--${boundary}`).slice(1, -1).map((part) => {
    const split = part.indexOf('\r\n\r\n');
    return part.slice(split + 4).replace(/\r\n$/, '');
  });
  return [JSON.parse(parts[0] ?? '{}'), parts[1] ?? ''];
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

function notFound(res: ServerResponse, message: string): void {
  sendJson(res, 404, { error: { code: 404, message, errors: [{ reason: 'notFound', message }], status: 'NOT_FOUND' } });
}
