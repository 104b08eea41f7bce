// `read`: every selected stream, for the platform and each connected account. New partitions
// (stream × account) are backfilled by `created` up to the moment the run started; afterwards
// their changes come from the Events API (or a lookback window, or a full relist). Everything
// runs concurrently under one rate budget.
import type { SourceConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SelectedStream } from '../protocol/inputs.js';
import type { ProtocolWriter } from '../protocol/writer.js';
import { STREAMS, type StreamDefinition, type StreamName } from '../streams/catalog.js';
import { StripeApi, type ClientStats } from '../stripe/client.js';
import { connectedAccounts, notConnected, resolvePlatform } from './accounts.js';
import { runBackfill } from './backfill.js';
import { EndpointLoad, ReadContext } from './context.js';
import { classifyFailure } from './failures.js';
import { UserError } from '../errors.js';
import { EVENT_RETENTION_SECONDS, runEventsPass } from './events-pass.js';
import { freshPartition, type PartitionState, type StreamState } from './state.js';
import { StreamOutput, type StripeObject } from './stream-output.js';

const DAY = 86_400;
/** Without a start_date, a partition's first backfill reaches back this far. */
const DEFAULT_HISTORY_SECONDS = 365 * DAY;

export interface ReadOptions {
  readonly config: SourceConfig;
  readonly streams: readonly SelectedStream[];
  readonly state: ReadonlyMap<StreamName, StreamState>;
  readonly writer: ProtocolWriter;
  readonly logger: Logger;
  /** Test hook: how long a request may keep failing before the run gives up. */
  readonly maxRetryTimeMs?: number;
  /** Told the accounts the run reads (the platform first), once they are known. */
  readonly onAccounts?: (accounts: readonly string[]) => void;
}

export interface ReadSummary {
  readonly platform: string;
  readonly accounts: readonly string[];
  readonly failedAccounts: ReadonlyMap<string, string>;
  readonly records: ReadonlyMap<StreamName, number>;
  readonly incomplete: ReadonlyMap<StreamName, readonly string[]>;
  readonly requests: ClientStats;
  readonly seconds: number;
}

export async function read(options: ReadOptions): Promise<ReadSummary> {
  const started = performance.now();
  const { config, writer, logger } = options;
  const load = new EndpointLoad();
  const api = new StripeApi(config, logger, { endpointWeight: (endpoint) => load.of(endpoint), ...(options.maxRetryTimeMs !== undefined ? { maxRetryTimeMs: options.maxRetryTimeMs } : {}) });
  writer.addSecret(config.apiKey);

  const wantsAccountsStream = options.streams.some((s) => s.name === 'accounts');
  const { platform, connected } = await fatalOnFailure(async () => {
    const platform = await resolvePlatform(api, config);
    return { platform, connected: await connectedAccounts(api, config, wantsAccountsStream) };
  });
  const startedAt = platform.serverTime;

  const outputs = new Map<StreamName, StreamOutput>();
  for (const selected of options.streams) {
    outputs.set(selected.name, StreamOutput.create(STREAMS[selected.name], selected.syncMode, options.state.get(selected.name), writer, config.mode));
  }
  const ctx = new ReadContext(api, writer, logger, config, platform.id, startedAt, outputs, load);
  if (platform.created !== undefined) ctx.createdAt.set(platform.id, platform.created);
  for (const account of connected.listed ?? []) if (typeof account.created === 'number') ctx.createdAt.set(account.id, account.created);
  for (const output of outputs.values()) await writer.streamStatus(output.name, 'STARTED');

  if (!platform.verified) await ctx.warn(`The key may not read its own account; using account_id ${platform.id} without checking it.`);
  if (connected.unavailable && config.connectedAccounts !== 'none') {
    await ctx.warn(`${connected.unavailable} Reading the platform ${platform.id} only${Array.isArray(config.connectedAccounts) ? ' and the listed accounts' : ''}.`);
  }
  const accounts = [platform.id, ...connected.ids];
  options.onAccounts?.(accounts);
  for (const id of connected.listed ? notConnected(config, connected.listed) : []) {
    ctx.failedAccounts.set(id, 'not connected');
    await ctx.warn(`Connected account ${id} is not connected to the platform ${platform.id} (or does not exist); skipped.`);
    for (const output of outputs.values()) if (output.definition.scope === 'every_account') output.problem(`connected account ${id} is not connected`);
  }

  const accountsOutput = outputs.get('accounts');
  if (accountsOutput) await emitConnectedAccounts(ctx, accountsOutput, connected.listed, connected.serverTime ?? startedAt, connected.unavailable);

  // Partitions: stream × account, fresh or resumed.
  const tasks: Promise<void>[] = [];
  for (const output of outputs.values()) {
    if (output.definition.changes === 'relist') continue;
    const scope = output.definition.scope === 'platform' ? [platform.id] : accounts;
    for (const account of scope) {
      if (ctx.failedAccounts.has(account)) continue;
      const partition = await preparePartition(ctx, output, account);
      output.setPartition(account, partition);
      if (partition.backfill) tasks.push(backfillTask(ctx, output, account, partition));
    }
  }
  for (const account of accounts) if (!ctx.failedAccounts.has(account)) tasks.push(runEventsPass(ctx, account));
  await Promise.all(tasks);

  for (const output of outputs.values()) {
    if (!ctx.fatal) await output.checkpoint();
    await writer.streamStatus(output.name, ctx.fatal || output.problems.size > 0 ? 'INCOMPLETE' : 'COMPLETE');
  }
  if (ctx.fatal) throw ctx.fatal;
  const summary: ReadSummary = {
    platform: platform.id,
    accounts,
    failedAccounts: ctx.failedAccounts,
    records: new Map([...outputs].map(([name, output]) => [name, output.records])),
    incomplete: new Map([...outputs].filter(([, o]) => o.problems.size > 0).map(([name, o]) => [name, [...o.problems]])),
    requests: { ...api.stats },
    seconds: (performance.now() - started) / 1000,
  };
  logger.info({ records: Object.fromEntries(summary.records), requests: summary.requests, seconds: Math.round(summary.seconds) }, 'read finished');
  return summary;
}

/** Runs a step before any stream has started: any failure ends the read. */
async function fatalOnFailure<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const failure = classifyFailure(error, false);
    if (failure.kind === 'fatal') throw failure.error;
    throw new UserError(failure.message, 'config_error');
  }
}

function historyStart(ctx: ReadContext, definition: StreamDefinition): number {
  const start = ctx.config.startDate ?? ctx.startedAt - DEFAULT_HISTORY_SECONDS;
  // Stripe keeps events for 30 days: older ones cannot be listed.
  return definition.name === 'events' ? Math.max(start, ctx.startedAt - EVENT_RETENTION_SECONDS) : start;
}

/** The partition to read this run: the saved one, or a fresh backfill, or a catch-up. */
async function preparePartition(ctx: ReadContext, output: StreamOutput, account: string): Promise<PartitionState> {
  const definition = output.definition;
  const now = ctx.startedAt;
  if (!output.incremental) return { backfill: { from: historyStart(ctx, definition), to: now, done: [] } };
  const saved = output.partition(account);
  if (!saved) return freshPartition(definition.changes, historyStart(ctx, definition), now);
  if (definition.changes === 'events' && saved.events && saved.events.cursor < now - EVENT_RETENTION_SECONDS + 3600) {
    await ctx.warn(
      `${definition.name} of ${account}: the last sync is older than the 30 days of events Stripe keeps, so changes since then cannot all be known; reading the stream again from the start.`,
    );
    return freshPartition(definition.changes, historyStart(ctx, definition), now);
  }
  if (definition.changes === 'created_lookback' && !saved.backfill && saved.created_cursor !== undefined) {
    const from = saved.created_cursor - ctx.config.lookbackWindowDays * DAY;
    return { ...saved, backfill: { from, to: now, done: [] } };
  }
  return saved;
}

async function backfillTask(ctx: ReadContext, output: StreamOutput, account: string, partition: PartitionState): Promise<void> {
  try {
    const complete = await runBackfill(ctx, output, account, partition);
    if (!complete || !partition.backfill) return;
    if (output.definition.changes === 'created_lookback') partition.created_cursor = partition.backfill.to;
    partition.complete = { from: partition.backfill.from, to: partition.backfill.to };
    delete partition.backfill;
    await output.checkpoint();
  } catch (error) {
    await ctx.fail(error, account, output);
  }
}

/** The `accounts` stream: the connected accounts listed now; ones gone since the last run are marked deleted. */
async function emitConnectedAccounts(
  ctx: ReadContext,
  output: StreamOutput,
  listed: readonly StripeObject[] | null,
  serverTime: number,
  unavailable: string | null,
): Promise<void> {
  if (!listed) {
    output.problem(unavailable ?? 'connected accounts could not be listed');
    return;
  }
  const ids = listed.map((a) => a.id);
  for (const account of listed) await output.emit(account, ctx.platformId, serverTime);
  if (output.incremental) {
    const current = new Set(ids);
    for (const id of output.state.known_accounts ?? []) {
      if (!current.has(id)) await output.emit({ id, object: 'account', deleted: true }, ctx.platformId, serverTime, true);
    }
    output.state.known_accounts = ids;
  }
}
