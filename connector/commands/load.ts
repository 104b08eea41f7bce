// `load`: `read` and `write` in one process. The state lives in the warehouse, so a load that
// stops for any reason continues where it left off when run again.
import type { SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { LoadPipeline, type PipelineStats } from '../load/pipeline.js';
import type { Progress } from '../load/progress.js';
import { modeMismatch, platformMismatch, type WarehouseNames } from '../loaders/loader.js';
import type { Warehouse } from '../loaders/warehouse.js';
import type { SelectedStream } from '../protocol/inputs.js';
import { ProtocolWriter } from '../protocol/writer.js';
import type { Platform } from '../sync/accounts.js';
import { read, type ReadSummary } from '../sync/read.js';
import { stateBelongsTo } from '../sync/state.js';
import { STREAM_NAMES, type StreamName } from '../streams/catalog.js';
import type { Dialect, Session } from '../warehouse/client.js';
import { relationName, relations } from '../warehouse/dialect.js';
import { EXIT } from './exit-codes.js';

export interface LoadResult {
  readonly read: ReadSummary;
  readonly pipeline: PipelineStats;
  /** Rows per raw table after the load, deleted ones included. */
  readonly tableRows: ReadonlyMap<string, number>;
  readonly seconds: number;
}

export async function load(options: {
  config: SourceConfig;
  streams: readonly SelectedStream[];
  loader: Warehouse;
  logger: Logger;
  progress?: Progress;
  /** Commit at the first STATE after this many records (default: the pipeline's). */
  batchRecords?: number;
  /** Aborted to stop at the next page; what was read is committed. */
  signal?: AbortSignal;
}): Promise<LoadResult> {
  const started = performance.now();
  const { config, loader, logger } = options;
  const held = await loader.mode();
  if (held && held !== config.mode) throw new UserError(modeMismatch(loader.description, held, config.mode));
  const state = await loader.states();
  // One platform per warehouse, checked once the key's platform is known and before anything is read.
  const heldPlatform = await loader.platform();
  const checkPlatform = (platform: Platform): void => {
    if (heldPlatform !== null) {
      if (heldPlatform !== platform.id) throw new UserError(platformMismatch(loader.description, heldPlatform, platform.id));
      return;
    }
    // A warehouse written before platforms were recorded: its states tell.
    const foreign = [...state.values()].find((s) => !stateBelongsTo(s, platform.id));
    if (foreign) throw new UserError(platformMismatch(loader.description, foreign.platform ?? null, platform.id));
  };
  const pipeline = new LoadPipeline(loader, { logger, ...(options.progress ? { progress: options.progress } : {}), ...(options.batchRecords ? { batchRecords: options.batchRecords } : {}) });
  const writer = new ProtocolWriter(pipeline);
  let summary: ReadSummary | undefined;
  let failure: unknown;
  try {
    summary = await read({
      config,
      streams: options.streams,
      state,
      writer,
      logger,
      onPlatform: checkPlatform,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.progress ? { onAccounts: (ids: readonly string[]) => options.progress?.setAccounts(ids.length) } : {}),
    });
  } catch (error) {
    failure = error;
  }
  // What was read before a failure is committed with its state: the next load goes on from there.
  try {
    await pipeline.flush();
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
  return { read: summary as ReadSummary, pipeline: pipeline.stats, tableRows: await rowCounts(loader.client, loader.names), seconds: (performance.now() - started) / 1000 };
}

/** Rows per raw table, deleted ones included, in one query. */
export async function rowCounts(session: Session, names: WarehouseNames): Promise<Map<StreamName, number>> {
  const tables = new Set((await relations(session, names.raw)).filter((r) => r.kind === 'table').map((r) => r.name));
  const streams = STREAM_NAMES.filter((stream) => tables.has(stream));
  if (streams.length === 0) return new Map();
  const counts = streams.map((stream) => `SELECT '${stream}' AS stream, count(*) AS n FROM ${relationName(session.dialect, names.raw, stream)}`);
  const { rows } = await session.query(counts.join('\nUNION ALL '));
  return new Map(rows.map((row) => [row.stream as StreamName, Number(row.n)]));
}

/** A word of a shell command, quoted if it must be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A command that queries a raw table, for the person who just loaded it: `stripe-elt query`, which
 * runs wherever stripe-elt does (no DuckDB CLI or bq needed). `flags`: those the query needs to
 * reach the same warehouse (a BigQuery location or endpoint).
 */
export function queryExample(warehouse: { readonly description: string; readonly names: WarehouseNames; readonly client: { readonly dialect: Dialect } }, flags: readonly string[] = []): string {
  const amount = warehouse.client.dialect === 'duckdb' ? "sum((data->>'amount')::BIGINT)" : "sum(CAST(JSON_VALUE(data, '$.amount') AS INT64))";
  const sql = `SELECT account_id, count(*) AS charges, ${amount} AS amount FROM ${warehouse.names.raw}.charges WHERE NOT is_deleted GROUP BY account_id ORDER BY account_id`;
  return ['stripe-elt', 'query', `"${sql}"`, '--warehouse', ...[warehouse.description, ...flags].map(shellWord)].join(' ');
}

function thousands(n: number): string {
  return n.toLocaleString('en-US');
}

/** The summary `load` prints at the end. */
export function loadSummary(result: LoadResult, loaded: { readonly description: string; readonly queryExample: string }, allowPartial = false): string {
  const read = result.read;
  const warehouse = loaded.description;
  const lines = [
    `Loaded ${thousands(result.pipeline.records)} records into ${warehouse} in ${result.seconds.toFixed(1)} s, from ${read.accounts.length} account${read.accounts.length === 1 ? '' : 's'} (the platform ${read.platform} and ${read.accounts.length - 1} connected).`,
    '',
    `  ${'stream'.padEnd(22)} ${'rows'.padStart(10)} ${'records read'.padStart(13)}`,
  ];
  for (const [stream, records] of read.records) {
    lines.push(`  ${stream.padEnd(22)} ${thousands(result.tableRows.get(stream) ?? 0).padStart(10)} ${thousands(records).padStart(13)}${read.incomplete.has(stream) ? '  incomplete' : ''}`);
  }
  lines.push('');
  lines.push(`Requests: ${thousands(read.requests.requests)} (${thousands(read.requests.retries)} retried, ${thousands(read.requests.rateLimited)} rate-limited). Commits: ${result.pipeline.commits}.`);
  if (result.pipeline.swept > 0) lines.push(`Marked deleted, no longer listed by Stripe: ${thousands(result.pipeline.swept)}.`);
  for (const [account, reason] of read.failedAccounts) lines.push(`Connected account ${account} ${reason}: its data is incomplete.`);
  for (const [stream, problems] of read.incomplete) lines.push(`${stream} is incomplete: ${problems.join('; ')}.`);
  if (read.interrupted) {
    lines.push(`Stopped before the end: everything read until then is committed. Run the same command again to go on from there.`);
  } else if (read.incomplete.size > 0 || read.failedAccounts.size > 0) {
    lines.push(allowPartial ? 'The load is partial (above), as --allow-partial accepts.' : `The load is partial (above): it exits with code ${EXIT.partial}, so that a scheduler notices; --allow-partial accepts such loads.`);
  }
  lines.push('', 'Query it, for instance:', `  ${loaded.queryExample}`);
  return lines.join('\n');
}
