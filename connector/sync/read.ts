// `read`: every selected stream, for the platform and each connected account. New partitions
// (stream × account) are backfilled by `created` up to the moment the run started; afterwards
// their changes come from the Events API (or a lookback window, or a full relist). Everything
// runs concurrently under one rate budget.
import type { SourceConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { DestinationSyncMode, SelectedStream } from '../protocol/inputs.js';
import type { ProtocolWriter } from '../protocol/writer.js';
import { STREAMS, type StreamDefinition, type StreamName } from '../streams/catalog.js';
import { StripeApi, type ClientStats } from '../stripe/client.js';
import { connectedAccounts, notConnected, resolvePlatform, type Platform } from './accounts.js';
import { runBackfill } from './backfill.js';
import { addInterval, clipBelow } from './intervals.js';
import { EndpointLoad, ReadContext } from './context.js';
import { classifyFailure } from './failures.js';
import { UserError } from '../errors.js';
import { EVENT_RETENTION_SECONDS, runEventsPass } from './events-pass.js';
import { freshPartition, newBackfill, stateBelongsTo, type PartitionState, type StreamState } from './state.js';
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
  /** Told the platform before anything is read; may refuse it by throwing (one platform per warehouse). */
  readonly onPlatform?: (platform: Platform) => Promise<void> | void;
  /** Aborted to stop the run at the next page: what was read is kept in the state printed last. */
  readonly signal?: AbortSignal;
}

export interface ReadSummary {
  readonly platform: string;
  readonly accounts: readonly string[];
  readonly failedAccounts: ReadonlyMap<string, string>;
  readonly records: ReadonlyMap<StreamName, number>;
  readonly incomplete: ReadonlyMap<StreamName, readonly string[]>;
  readonly requests: ClientStats;
  readonly seconds: number;
  /** The run was asked to stop before it was done. */
  readonly interrupted: boolean;
}

export async function read(options: ReadOptions): Promise<ReadSummary> {
  const started = performance.now();
  const { config, writer, logger } = options;
  const load = new EndpointLoad();
  const api = new StripeApi(config, logger, { endpointWeight: (endpoint) => load.of(endpoint), ...(options.maxRetryTimeMs !== undefined ? { maxRetryTimeMs: options.maxRetryTimeMs } : {}) });
  writer.addSecret(config.apiKey);

  const wantsAccountsStream = options.streams.some((s) => s.name === 'accounts');
  const platform = await fatalOnFailure(() => resolvePlatform(api, config));
  await options.onPlatform?.(platform);
  for (const [name, state] of options.state) {
    if (!stateBelongsTo(state, platform.id)) {
      throw new UserError(
        `The state of ${name} is of another platform${state.platform ? ` (${state.platform})` : ''} than the key's, ${platform.id}: one state (and one warehouse) per platform. ` +
          `Use the state of ${platform.id}'s runs, or start without it.`,
      );
    }
  }
  const connected = await fatalOnFailure(() => connectedAccounts(api, config, wantsAccountsStream));
  const startedAt = platform.serverTime;

  const outputs = new Map<StreamName, StreamOutput>();
  for (const selected of options.streams) {
    outputs.set(selected.name, StreamOutput.create(STREAMS[selected.name], selected.syncMode, options.state.get(selected.name), writer, config.mode, platform.id));
  }
  const ctx = new ReadContext(api, writer, logger, config, platform.id, startedAt, outputs, load);
  const onAbort = () => {
    ctx.interrupted = true;
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
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
    await ctx.loseAccount(id, 'is not connected', `Connected account ${id} (listed in connected_accounts) is not connected to the platform ${platform.id}, or does not exist: it was not read. Remove it from connected_accounts, or connect it again.`);
  }
  if (connected.listed) await reportVanishedAccounts(ctx, new Set(connected.ids));

  const accountsOutput = outputs.get('accounts');
  if (accountsOutput) await emitConnectedAccounts(ctx, accountsOutput, connected.listed, ctx.observationTime(), connected.unavailable);

  // Partitions: stream × account, fresh or resumed.
  const tasks: Promise<void>[] = [];
  const extended = new Set<string>();
  for (const [name, output] of outputs) {
    if (output.definition.changes === 'relist') continue;
    const scope = output.definition.scope === 'platform' ? [platform.id] : accounts;
    for (const account of scope) {
      if (ctx.failedAccounts.has(account)) continue;
      const partition = preparePartition(ctx, output, account, options.streams.find((s) => s.name === name)?.destinationSyncMode ?? 'append_dedup');
      if (partition.extended) extended.add(name);
      output.setPartition(account, partition.state);
      if (partition.state.backfill) tasks.push(backfillTask(ctx, output, account, partition.state));
    }
  }
  if (extended.size > 0 && config.startDate !== undefined) {
    await ctx.notice(`start_date ${new Date(config.startDate * 1000).toISOString().slice(0, 10)} is earlier than what was read before: reading the newly covered range of ${[...extended].join(', ')}.`);
  }
  for (const account of accounts) if (!ctx.failedAccounts.has(account)) tasks.push(runEventsPass(ctx, account));
  await Promise.all(tasks);
  options.signal?.removeEventListener('abort', onAbort);

  for (const output of outputs.values()) {
    if (!ctx.fatal) await output.checkpoint();
    await writer.streamStatus(output.name, ctx.fatal || ctx.interrupted || !output.complete ? 'INCOMPLETE' : 'COMPLETE');
  }
  if (ctx.fatal) throw ctx.fatal;
  const summary: ReadSummary = {
    platform: platform.id,
    accounts,
    failedAccounts: ctx.failedAccounts,
    records: new Map([...outputs].map(([name, output]) => [name, output.records])),
    incomplete: new Map([...outputs].filter(([, o]) => !o.complete).map(([name, o]) => [name, [...o.problems]])),
    requests: { ...api.stats },
    seconds: (performance.now() - started) / 1000,
    interrupted: ctx.interrupted,
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

/**
 * Connected accounts read before (they have partitions) that the platform no longer lists:
 * deauthorized or deleted. Each is named once, the run is incomplete, and its partitions are
 * kept (marked) so that a reconnection goes on where it stopped. One that comes back is read again.
 */
async function reportVanishedAccounts(ctx: ReadContext, connected: ReadonlySet<string>): Promise<void> {
  const now = ctx.startedAt;
  const vanished = new Map<string, boolean>();
  for (const output of ctx.outputs.values()) {
    for (const [account, partition] of Object.entries(output.state.accounts)) {
      if (account === ctx.platformId) continue;
      if (connected.has(account)) {
        delete partition.disconnected_at;
        continue;
      }
      // Only accounts this run would read: with an explicit list, the others were left out on purpose.
      if (ctx.config.connectedAccounts !== 'all') continue;
      const known = vanished.get(account) ?? false;
      vanished.set(account, known || partition.disconnected_at !== undefined);
      partition.disconnected_at ??= now;
    }
  }
  for (const [account, reportedBefore] of vanished) {
    if (reportedBefore) continue;
    await ctx.loseAccount(
      account,
      'is no longer connected',
      `Connected account ${account}, read before, is no longer connected to the platform ${ctx.platformId} (deauthorized or deleted): its data stays as last read and is no longer updated.`,
    );
  }
}

function historyStart(ctx: ReadContext, definition: StreamDefinition): number {
  const start = ctx.config.startDate ?? ctx.startedAt - DEFAULT_HISTORY_SECONDS;
  // Stripe keeps events for 30 days: older ones cannot be listed.
  return definition.name === 'events' ? Math.max(start, ctx.startedAt - EVENT_RETENTION_SECONDS) : start;
}

/**
 * The partition to read this run: a fresh backfill, the saved one (a backfill resumed, an
 * incremental cursor), a catch-up when events have expired, and the range a start_date moved
 * earlier newly covers. `extended` says whether that last one applies.
 */
function preparePartition(ctx: ReadContext, output: StreamOutput, account: string, destination: DestinationSyncMode): { state: PartitionState; extended: boolean } {
  const definition = output.definition;
  const now = ctx.startedAt;
  const since = ctx.observationTime();
  const start = historyStart(ctx, definition);
  const expanded = definition.expand.length > 0 ? { expanded: [...definition.expand] } : {};
  const fresh = (): PartitionState => ({ ...freshPartition(definition.changes, newBackfill(start, now, since), now), history_from: start, ...expanded });
  if (!output.incremental) {
    // Overwrite: when the refresh completes, every row it did not read counts as gone, whatever its date.
    const partition = fresh();
    if (destination === 'overwrite') partition.overwrite = true;
    return { state: partition, extended: false };
  }
  const saved = output.partition(account);
  if (!saved) return { state: fresh(), extended: false };
  if (definition.changes === 'events' && saved.events && saved.events.cursor < now - EVENT_RETENTION_SECONDS + 3600) {
    void ctx.warn(
      `${definition.name} of ${account}: the last sync is older than the 30 days of events Stripe keeps, so changes since then cannot all be known; reading the stream again from the start.`,
    );
    return { state: fresh(), extended: false };
  }
  const missing = definition.expand.filter((field) => !(saved.expanded ?? []).includes(field));
  if (missing.length > 0) {
    // Objects read before without these fields expanded keep ids until they change: read them all again.
    void ctx.warn(
      `${definition.name} of ${account}: read before without ${missing.join(', ')} expanded, which this version loads expanded; reading the stream again from the start.`,
    );
    return { state: fresh(), extended: false };
  }
  const partition = structuredClone(saved);
  if (definition.changes === 'created_lookback') {
    const backfill = partition.backfill;
    if (backfill && backfill.to < now && backfill.to >= (partition.created_cursor ?? -Infinity)) {
      // A backfill that stopped half-way goes on up to this run's start (objects created since its
      // first run have no events to tell of them), and reads again what was pending when read.
      backfill.to = now;
      if (backfill.oldest_pending !== undefined) {
        backfill.done = clipBelow(backfill.done, backfill.oldest_pending);
        delete backfill.oldest_pending;
      }
    } else if (!backfill && partition.created_cursor !== undefined) {
      // Re-read what may have changed: from the oldest object still pending, and the lookback window.
      const from = Math.min(partition.created_cursor - ctx.config.lookbackWindowDays * DAY, partition.oldest_pending ?? Infinity);
      partition.backfill = newBackfill(from, now, since);
    }
  }
  // A start_date moved earlier than what was read: the newly covered range is read too.
  const covered = partition.history_from;
  let extended = false;
  if (ctx.config.startDate !== undefined && covered !== undefined && start < covered) {
    const backfill = partition.backfill;
    if (!backfill) {
      partition.backfill = newBackfill(start, covered - 1, since);
    } else {
      if (backfill.from > covered) {
        // A re-read of recent objects: it reaches down to the new start too, skipping the range
        // between (read before); only what it lists anew counts as complete (see `complete`).
        backfill.sweep_from ??= backfill.from;
        backfill.done = addInterval(backfill.done, covered, backfill.from - 1);
      }
      backfill.from = start;
    }
    extended = true;
  }
  return { state: partition, extended };
}

async function backfillTask(ctx: ReadContext, output: StreamOutput, account: string, partition: PartitionState): Promise<void> {
  try {
    const complete = await runBackfill(ctx, output, account, partition);
    const backfill = partition.backfill;
    if (!complete || !backfill) return;
    if (output.definition.changes === 'created_lookback') {
      // A re-read up to now that covered every object pending before tells which are pending now.
      const covering = backfill.from <= (partition.oldest_pending ?? Infinity) && backfill.to >= (partition.created_cursor ?? -Infinity);
      const pending = covering ? backfill.oldest_pending : Math.min(partition.oldest_pending ?? Infinity, backfill.oldest_pending ?? Infinity);
      if (pending === undefined || pending === Infinity) delete partition.oldest_pending;
      else partition.oldest_pending = pending;
      partition.created_cursor = Math.max(partition.created_cursor ?? -Infinity, backfill.to);
    }
    partition.complete = { from: partition.overwrite ? 0 : (backfill.sweep_from ?? backfill.from), to: backfill.to, since: backfill.since };
    partition.history_from = Math.min(partition.history_from ?? Infinity, backfill.from);
    delete partition.backfill;
    await output.checkpoint();
  } catch (error) {
    await ctx.fail(error, account, [output]);
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
