// Received events into the warehouse, in one commit: each event becomes records by the rule the
// events pass follows (sync/event-changes.ts), stamped with the event's time, so that the merge's
// latest-version rule decides between it and what a sync read (a late or replayed event never
// overwrites newer data). An event already committed (Stripe retries, and delivers at least
// once) is ignored, by its id; so is one of an account this configuration does not read.
//
// The `events` stream is not written here: it holds each event as the Events API renders it (at
// the account's API version), which a webhook delivery (at the endpoint's) is not; the sync's
// events pass fills it.
import type { Mode } from '../config.js';
import type { Logger } from '../logger.js';
import { BatchFile } from '../loaders/batch.js';
import type { Loader, ReceivedEvent } from '../loaders/loader.js';
import { STREAMS, retrieveQuery, type StreamName } from '../streams/catalog.js';
import { isStripeError, type StripeApi } from '../stripe/client.js';
import { eventChanges, type StripeEvent } from '../sync/event-changes.js';
import { classifyFailure } from '../sync/failures.js';
import { asRecord, type StripeObject } from '../sync/stream-output.js';
import type { JournalEntry } from './journal.js';

export interface ApplyContext {
  readonly loader: Loader;
  readonly api: StripeApi;
  readonly mode: Mode;
  readonly platform: string;
  /** Whether events of this account are read (the platform, and the connected accounts the configuration reads). */
  readonly readsAccount: (account: string) => boolean;
  /** The streams loaded. */
  readonly streams: ReadonlySet<StreamName>;
  readonly logger: Logger;
}

export interface ApplyResult {
  /** Events whose changes were committed. */
  readonly applied: number;
  /** Delivered again, or twice: already committed. */
  readonly duplicates: number;
  /** Of an account, or about objects, that are not loaded. */
  readonly ignored: number;
  /** Records committed. */
  readonly records: number;
  /** The newest applied event's time, unix seconds. */
  readonly newestEvent: number | undefined;
}

interface Pending {
  readonly stream: StreamName;
  readonly account: string;
  readonly id: string;
  /** The event that made it necessary: the object fetched is at least as new. */
  readonly eventCreated: number;
}

/** Parses journal entries; the receiver verified each, so a line that is not an event is a bug, and fails loudly. */
function eventsOf(entries: readonly JournalEntry[]): StripeEvent[] {
  return entries.map((entry) => JSON.parse(entry.body) as StripeEvent);
}

export async function applyEvents(ctx: ApplyContext, entries: readonly JournalEntry[]): Promise<ApplyResult> {
  const all = eventsOf(entries);
  const unique = new Map<string, StripeEvent>();
  for (const event of all) if (!unique.has(event.id)) unique.set(event.id, event);
  const committedBefore = await ctx.loader.receivedEvents([...unique.keys()]);
  const fresh = [...unique.values()].filter((event) => !committedBefore.has(event.id));

  const batch = new BatchFile();
  let records = 0;
  let ignored = 0;
  let newestEvent: number | undefined;
  const received: ReceivedEvent[] = [];
  const refetch = new Map<string, Pending>();
  /** Fetches the object again, stamped with the newest of the events that asked for it. */
  const fetch = (pending: Pending) => {
    const key = `${pending.stream}/${pending.account}/${pending.id}`;
    const held = refetch.get(key);
    if (!held || pending.eventCreated > held.eventCreated) refetch.set(key, pending);
  };
  const add = async (stream: StreamName, account: string, object: StripeObject, observedAt: number, deleted: boolean) => {
    const data = asRecord(STREAMS[stream], ctx.mode, object, account, observedAt, deleted);
    await batch.addLine(JSON.stringify({ type: 'RECORD', record: { stream, data, emitted_at: Date.now() } }), stream);
    records++;
  };
  /** The newest of the batch's events about each object (`stream/account/id`), and whether another event ties with it. */
  const newest = new Map<string, { readonly stream: StreamName; readonly account: string; object: StripeObject; created: number; deleted: boolean; tied: boolean }>();
  try {
    for (const event of fresh) {
      const account = event.account ?? ctx.platform;
      received.push({ id: event.id, account_id: account, type: event.type, created: event.created });
      const changes = eventChanges(event);
      const wanted = [changes.object?.stream, ...changes.related.map((r) => r.stream)].some((stream) => stream !== undefined && ctx.streams.has(stream));
      if (!ctx.readsAccount(account) || !wanted) {
        ignored++;
        continue;
      }
      newestEvent = Math.max(newestEvent ?? 0, event.created);
      const change = changes.object;
      if (change && ctx.streams.has(change.stream)) {
        if (change.kind === 'refetch') fetch({ stream: change.stream, account, id: change.id, eventCreated: event.created });
        else {
          const key = `${change.stream}/${account}/${change.object.id}`;
          const deleted = change.kind === 'deleted';
          const held = newest.get(key);
          if (!held || event.created > held.created) newest.set(key, { stream: change.stream, account, object: change.object, created: event.created, deleted, tied: false });
          else if (event.created === held.created && !held.deleted) Object.assign(held, deleted ? { object: change.object, deleted, tied: false } : { tied: true });
        }
      }
      for (const related of changes.related) {
        if (ctx.streams.has(related.stream)) fetch({ ...related, account, eventCreated: event.created });
      }
    }
    // Events carry whole seconds, and Stripe makes several changes to one object in one second
    // (an invoice created, finalized and paid): which of them is newer no event tells, and
    // deliveries come in any order. When one ties with another of the batch, or with the
    // second the warehouse's row was observed at, the object is fetched again instead.
    const rowsObserved = new Map<string, number>();
    for (const stream of new Set([...newest.values()].map((n) => n.stream))) {
      const objects = [...newest.values()].filter((n) => n.stream === stream && !n.deleted).map((n) => ({ account_id: n.account, id: n.object.id }));
      for (const [key, at] of await ctx.loader.observedAt(stream, objects)) rowsObserved.set(`${stream}/${key}`, at);
    }
    for (const [key, change] of newest) {
      if (change.deleted || (!change.tied && rowsObserved.get(key) !== change.created)) await add(change.stream, change.account, change.object, change.created, change.deleted);
      else fetch({ stream: change.stream, account: change.account, id: change.object.id, eventCreated: change.created });
    }
    // Fetched at our API version with the stream's expansions, as the events pass does; stamped
    // with the event's time, never later, so a newer event's record is never overtaken by it.
    for (const pending of refetch.values()) {
      const object = await fetchAgain(ctx, pending);
      if (object) await add(pending.stream, pending.account, object, pending.eventCreated, false);
    }
    await batch.seal();
    if (fresh.length > 0) await ctx.loader.commit(batch, new Map(), received);
  } finally {
    batch.discard();
  }
  return { applied: fresh.length - ignored, duplicates: all.length - fresh.length, ignored, records, newestEvent };
}

/** The object now, or undefined when it is gone (its own `*.deleted` event tells) or the key may not read it (said, once a fetch). */
async function fetchAgain(ctx: ApplyContext, { stream, account, id }: Pending): Promise<StripeObject | undefined> {
  const definition = STREAMS[stream];
  const onConnected = account !== ctx.platform;
  try {
    const reply = await ctx.api.get<StripeObject & { deleted?: boolean }>(`${definition.path}/${encodeURIComponent(id)}`, retrieveQuery(definition), {
      endpoint: `GET ${definition.path}/:id`,
      ...(onConnected ? { account } : {}),
    });
    return reply.body.deleted === true ? undefined : reply.body;
  } catch (error) {
    if (isStripeError(error) && error.statusCode === 404) return undefined;
    if (classifyFailure(error, onConnected).kind !== 'permission') throw error;
    ctx.logger.warn({ stream, account, id }, `The key may not read ${stream} on ${account}: ${id} was not fetched again; the next sync reports the stream incomplete.`);
    return undefined;
  }
}
