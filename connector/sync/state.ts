// A stream's state: for each account, how far its backfill got and where its incremental cursor
// stands. Parsed with zod when read (a file, stdin, the warehouse), upgraded from older versions
// there, and changed only through the functions below.
import { z } from 'zod';
import { STREAMS, type StreamName } from '../streams/catalog.js';
import type { Interval } from './intervals.js';

const interval = z.tuple([z.number().int(), z.number().int()]);
const second = z.number().int();

const BackfillSchema = z
  .object({
    /** The `created` range to read, and the parts of it read so far. */
    from: second,
    to: second,
    done: z.array(interval),
    /**
     * Every record the backfill prints is observed at or after this Stripe time (the backfill's
     * start, less the second a listed object is stamped back; see StreamOutput.emitListed).
     */
    since: second,
    /** Streams whose objects change while pending (balance transactions): the oldest pending one seen. */
    oldest_pending: second.optional(),
    /**
     * Where the part of the range listed anew by this backfill begins, when the range below was
     * read before (see `complete`); absent, `from`.
     */
    sweep_from: second.optional(),
  })
  .strict();

export const PartitionStateSchema = z
  .object({
    /** A backfill by `created` over [from, to]; gone once complete. */
    backfill: BackfillSchema.optional(),
    /** Events-based streams: events up to `cursor` are applied; `seen` are ids at or just before it. */
    events: z.object({ cursor: second, seen: z.array(z.string()) }).strict().optional(),
    /** Created-based streams: objects created up to `cursor` are read. */
    created_cursor: second.optional(),
    /** Created-based streams: the oldest object still pending when last read, read again next time. */
    oldest_pending: second.optional(),
    /**
     * The last backfill that completed: every object created in [from, to] that still exists was
     * printed with observed_at ≥ since, so any row of that range observed before `since` is gone.
     */
    complete: z.object({ from: second, to: second, since: second }).strict().optional(),
    /** Where the partition's data begins: objects created from here on have been read (or are being). */
    history_from: second.optional(),
    /** A full refresh to overwrite with: once complete, every row of the account it did not read is gone. */
    overwrite: z.literal(true).optional(),
    /** A connected account read before that is no longer connected: when that was first seen. */
    disconnected_at: second.optional(),
    /** The fields its objects were read with expanded (the stream's `expand`), when any. */
    expanded: z.array(z.string()).optional(),
  })
  .strict();

export type PartitionState = z.infer<typeof PartitionStateSchema>;
export type BackfillState = z.infer<typeof BackfillSchema>;

export const STATE_VERSION = 2;

export const StreamStateSchema = z
  .object({
    version: z.literal(STATE_VERSION),
    /** The platform account whose data this is: one platform per warehouse. */
    platform: z.string().optional(),
    /** Present on the state of a full refresh: progress within that refresh only, never a cursor. */
    sync_mode: z.literal('full_refresh').optional(),
    accounts: z.record(z.string(), PartitionStateSchema),
    /** The `accounts` stream: connected accounts seen by the last run (to mark disconnections). */
    known_accounts: z.array(z.string()).optional(),
  })
  .strict();

export type StreamState = z.infer<typeof StreamStateSchema>;

// Version 1 (stripe-elt 0.1): records were stamped with the response's time, so a backfill's
// records were all observed at or after its `to`, and `complete` had no `since`.
const V1PartitionSchema = z
  .object({
    backfill: z.object({ from: second, to: second, done: z.array(interval) }).strict().optional(),
    events: z.object({ cursor: second, seen: z.array(z.string()) }).strict().optional(),
    created_cursor: second.optional(),
    complete: z.object({ from: second, to: second }).strict().optional(),
  })
  .strict();

const V1StreamStateSchema = z
  .object({ version: z.literal(1), accounts: z.record(z.string(), V1PartitionSchema), known_accounts: z.array(z.string()).optional() })
  .strict();

function upgradeV1(v1: z.infer<typeof V1StreamStateSchema>, stream: StreamName | undefined): StreamState {
  const accounts: Record<string, PartitionState> = {};
  for (const [account, p] of Object.entries(v1.accounts)) {
    // Where the data begins: the first backfill's start while it runs; once it completed, an
    // events-based stream's last complete backfill is its first (or a full re-read), but a
    // created-based one's is its last re-read of recent objects, which says nothing of the start.
    const eventsBased = stream !== undefined && STREAMS[stream].changes === 'events';
    const historyFrom = p.complete ? (eventsBased ? p.complete.from : undefined) : p.backfill?.from;
    accounts[account] = {
      ...(historyFrom !== undefined ? { history_from: historyFrom } : {}),
      ...(p.backfill ? { backfill: { ...p.backfill, since: p.backfill.to } } : {}),
      ...(p.events ? { events: p.events } : {}),
      ...(p.created_cursor !== undefined ? { created_cursor: p.created_cursor } : {}),
      ...(p.complete ? { complete: { ...p.complete, since: p.complete.to } } : {}),
    };
  }
  return { version: STATE_VERSION, accounts, ...(v1.known_accounts ? { known_accounts: v1.known_accounts } : {}) };
}

export type ParsedState = { readonly ok: true; readonly state: StreamState } | { readonly ok: false; readonly problem: string };

/** A stream state of any version this source wrote, as the current version. */
export function parseStreamState(raw: unknown, stream?: StreamName): ParsedState {
  const current = StreamStateSchema.safeParse(raw);
  if (current.success) return { ok: true, state: current.data };
  const v1 = V1StreamStateSchema.safeParse(raw);
  if (v1.success) return { ok: true, state: upgradeV1(v1.data, stream) };
  const version = raw && typeof raw === 'object' ? (raw as { version?: unknown }).version : undefined;
  if (typeof version === 'number' && version > STATE_VERSION) {
    return { ok: false, problem: `it is version ${version}, written by a newer stripe-elt (this one reads versions 1 to ${STATE_VERSION}); upgrade stripe-elt` };
  }
  const issue = current.error.issues[0];
  return { ok: false, problem: issue ? `${issue.path.join('.') || 'the state'}: ${issue.message}` : 'unknown problem' };
}

export function emptyStreamState(platform: string | undefined): StreamState {
  return { version: STATE_VERSION, ...(platform ? { platform } : {}), accounts: {} };
}

/** A backfill of [from, to] whose records are observed from `since` on. */
export function newBackfill(from: number, to: number, since: number): BackfillState {
  return { from, to, done: [] as Interval[], since };
}

/** The starting state of a partition read for the first time at Stripe time `now`. */
export function freshPartition(changes: 'events' | 'created_lookback' | 'relist', backfill: BackfillState, now: number): PartitionState {
  if (changes === 'events') return { backfill, events: { cursor: now, seen: [] } };
  return { backfill, created_cursor: now };
}

/**
 * Whether a state is of this platform's data. States since version 2 name their platform; an
 * older one is another platform's when none of its accounts is this platform (the platform has
 * a partition in every stream it read).
 */
export function stateBelongsTo(state: StreamState, platformId: string): boolean {
  if (state.platform !== undefined) return state.platform === platformId;
  const accounts = Object.keys(state.accounts);
  return accounts.length === 0 || accounts.includes(platformId);
}
