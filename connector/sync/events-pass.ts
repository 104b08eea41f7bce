// What changed in an account since the last run, from the Events API: one pass over the
// account's events serves every selected stream whose objects change (and the `events` stream).
// Events are read in windows of time, oldest window first, each newest first, so that the first
// event seen about an object is its latest state. An event rendered at another API version than
// ours, or about an object of a stream that holds some fields expanded (an event's copy never
// is), is not printed as it is: the object is fetched again, so that every record of a stream
// has the same shape whichever way it arrived.
import { retrieveQuery, type StreamName } from '../streams/catalog.js';
import { isStripeError, type StripeList } from '../stripe/client.js';
import type { ReadContext } from './context.js';
import { eventChanges, type StripeEvent } from './event-changes.js';
import { classifyFailure } from './failures.js';
import type { StreamOutput, StripeObject } from './stream-output.js';

/** Events Stripe keeps: 30 days. */
export const EVENT_RETENTION_SECONDS = 30 * 86_400;
/** Each run looks this far behind its cursor, for events that became visible late. */
export const OVERLAP_SECONDS = 300;
const WINDOW_SECONDS = 86_400;
const WINDOWS_AT_ONCE = 4;

interface Refetch {
  readonly output: StreamOutput;
  readonly id: string;
  /** The event that made it necessary: the object fetched is at least as new. */
  readonly eventCreated: number;
}

/** The streams that take their changes from this account's events, with their cursors. */
function consumers(ctx: ReadContext, account: string): StreamOutput[] {
  return [...ctx.outputs.values()].filter((output) => {
    const partition = output.partition(account);
    return output.incremental && output.definition.changes === 'events' && partition?.events !== undefined && !output.failedOn.has(account);
  });
}

/** The stream still takes this account's events (it has not failed on it during the pass). */
function consuming(output: StreamOutput | undefined, account: string): output is StreamOutput {
  return output !== undefined && !output.failedOn.has(account);
}

export async function runEventsPass(ctx: ReadContext, account: string): Promise<void> {
  const streams = consumers(ctx, account);
  if (streams.length === 0) return;
  const cursorOf = (output: StreamOutput) => (output.partition(account)?.events?.cursor ?? Infinity);
  const seen = new Set(streams.flatMap((output) => output.partition(account)?.events?.seen ?? []));
  const from = Math.min(...streams.map(cursorOf)) - OVERLAP_SECONDS;
  const to = ctx.serverNow();
  const byStream = new Map<StreamName, StreamOutput>(streams.map((output) => [output.definition.name, output]));
  const onConnected = account !== ctx.platformId;
  const requestAccount = onConnected ? { account } : {};

  // The events processed near each window's end, to skip them next time.
  const processedNearEnd = new Map<string, number>();
  const windows: [number, number][] = [];
  for (let lo = from; lo <= to; lo += WINDOW_SECONDS) windows.push([lo, Math.min(to, lo + WINDOW_SECONDS - 1)]);
  const finished = new Set<number>();
  let prefix = -1;

  /** Applies one event to the streams it concerns (see event-changes.ts); what is not in our shape goes to `refetch`. */
  const apply = async (event: StripeEvent, latest: Set<string>, refetch: Map<string, Refetch>): Promise<void> => {
    const eventsOutput = byStream.get('events');
    if (consuming(eventsOutput, account) && event.created >= cursorOf(eventsOutput) - OVERLAP_SECONDS) {
      await eventsOutput.emit(event as unknown as StripeObject, account, event.created);
    }
    const changes = eventChanges(event);
    const change = changes.object;
    const output = change ? byStream.get(change.stream) : undefined;
    if (change && consuming(output, account) && event.created >= cursorOf(output) - OVERLAP_SECONDS) {
      const id = change.kind === 'refetch' ? change.id : change.object.id;
      const key = `${output.name}:${id}`;
      if (!latest.has(key)) {
        latest.add(key);
        if (change.kind === 'refetch') refetch.set(key, { output, id, eventCreated: event.created });
        else await output.emit(change.object, account, event.created, change.kind === 'deleted');
      }
    }
    for (const related of changes.related) {
      const relatedOutput = byStream.get(related.stream);
      if (!consuming(relatedOutput, account)) continue;
      const key = `${related.stream}:${related.id}`;
      if (!latest.has(key)) {
        latest.add(key);
        refetch.set(key, { output: relatedOutput, id: related.id, eventCreated: event.created });
      }
    }
  };

  /**
   * Fetches an object again at our API version, with its stream's expansions. The key may not read some streams (a dispute, to a
   * key without Read on disputes): that stream is incomplete on this account and keeps its cursor,
   * and the pass goes on for the others. A deleted object is told of by its own *.deleted event.
   */
  const fetchAgain = async ({ output, id, eventCreated }: Refetch): Promise<void> => {
    const path = `${output.definition.path}/${encodeURIComponent(id)}`;
    // Fetched after the event was listed, so at least as new as the event.
    const observedAt = Math.max(ctx.observationTime(), eventCreated);
    try {
      const reply = await ctx.api.get<StripeObject & { deleted?: boolean }>(path, retrieveQuery(output.definition), { endpoint: `GET ${output.definition.path}/:id`, ...requestAccount });
      ctx.sawServerTime(reply.serverTime);
      if (reply.body.deleted === true || !consuming(output, account)) return;
      await output.emit(reply.body, account, observedAt);
    } catch (error) {
      if (isStripeError(error) && error.statusCode === 404) return;
      const failure = classifyFailure(error, onConnected);
      if (failure.kind !== 'permission') throw error;
      await ctx.fail(error, account, [output]);
    }
  };

  const readWindow = async (index: number): Promise<void> => {
    const [lo, hi] = windows[index] as [number, number];
    const latest = new Set<string>();
    const refetch = new Map<string, Refetch>();
    let after: string | undefined;
    for (;;) {
      if (ctx.stopped(account)) return;
      const reply = await ctx.api.list<StripeEvent>('/v1/events', { limit: 100, 'created[gte]': lo, 'created[lte]': hi, starting_after: after }, { endpoint: 'GET /v1/events', priority: 1, ...requestAccount });
      ctx.sawServerTime(reply.serverTime);
      if (ctx.stopped(account)) return;
      const page: StripeList<StripeEvent> = reply.body;
      for (const event of page.data) {
        // Applied by the last run: kept as seen while it is within the overlap, so that runs
        // minutes apart do not apply (and fetch) it again.
        if (event.created >= hi - OVERLAP_SECONDS) processedNearEnd.set(event.id, event.created);
        if (seen.has(event.id)) continue;
        await apply(event, latest, refetch);
      }
      const last = page.data[page.data.length - 1];
      if (!last || !page.has_more) break;
      after = last.id;
    }
    await Promise.all([...refetch.values()].map(fetchAgain));
    if (ctx.stopped(account)) return;
    finished.add(index);
    const before = prefix;
    while (finished.has(prefix + 1)) prefix++;
    if (prefix > before) await advanceCursors((windows[prefix] as [number, number])[1]);
  };

  /** Moves every consuming stream's cursor to `cursor`, once all windows up to it are done. */
  const advanceCursors = async (cursor: number): Promise<void> => {
    const recent = [...processedNearEnd].filter(([, created]) => created >= cursor - OVERLAP_SECONDS && created <= cursor).map(([id]) => id);
    for (const output of streams) {
      const partition = output.partition(account);
      if (!partition?.events || partition.events.cursor > cursor || !consuming(output, account)) continue;
      partition.events = { cursor, seen: recent };
      await output.checkpoint();
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < windows.length && !ctx.stopped(account)) await readWindow(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(WINDOWS_AT_ONCE, windows.length) }, worker));
  } catch (error) {
    if (ctx.interrupted) return;
    const failure = classifyFailure(error, onConnected);
    if (failure.kind !== 'permission') {
      await ctx.fail(error, account, streams);
      return;
    }
    // Without events, nothing tells of updates and deletions: every stream that relies on them
    // is incomplete on this account, and keeps its cursor for when the key may read events.
    const where = onConnected ? `connected account ${account}` : `the platform ${account}`;
    for (const output of streams) output.failOn(account, `its updates and deletions on ${where} could not be read: the key may not read events`);
    const grant = failure.permission ? `grant the key the ${failure.permission} permission` : 'grant the key Read on events';
    await ctx.warn(`Changes on ${where} since the last sync could not be read: the key may not read events (${failure.message}). Updates and deletions are learned from events: ${grant}.`);
  }
}
