// A stream's state: for each account, how far its backfill got and where its incremental cursor
// stands. Parsed with zod when read from a file; changed only through the functions below.
import { z } from 'zod';
import type { Interval } from './intervals.js';

const interval = z.tuple([z.number().int(), z.number().int()]);

export const PartitionStateSchema = z
  .object({
    /** A backfill by `created` over [from, to]; `done` lists the ranges read. Gone once complete. */
    backfill: z.object({ from: z.number().int(), to: z.number().int(), done: z.array(interval) }).strict().optional(),
    /** Events-based streams: events up to `cursor` are applied; `seen` are ids at or just before it. */
    events: z.object({ cursor: z.number().int(), seen: z.array(z.string()) }).strict().optional(),
    /** Created-based streams: objects created up to `cursor` are read. */
    created_cursor: z.number().int().optional(),
    /**
     * The last backfill that completed: every object created in [from, to] that still exists was
     * printed with observed_at ≥ to, so any object of that range seen before and not since is gone.
     */
    complete: z.object({ from: z.number().int(), to: z.number().int() }).strict().optional(),
  })
  .strict();

export type PartitionState = z.infer<typeof PartitionStateSchema>;

export const StreamStateSchema = z
  .object({
    version: z.literal(1),
    accounts: z.record(z.string(), PartitionStateSchema),
    /** The `accounts` stream: connected accounts seen by the last run (to mark disconnections). */
    known_accounts: z.array(z.string()).optional(),
  })
  .strict();

export type StreamState = z.infer<typeof StreamStateSchema>;

export function emptyStreamState(): StreamState {
  return { version: 1, accounts: {} };
}

/** The starting state of a partition read for the first time at Stripe time `now`. */
export function freshPartition(changes: 'events' | 'created_lookback' | 'relist', from: number, now: number): PartitionState {
  const backfill = { from, to: now, done: [] as Interval[] };
  if (changes === 'events') return { backfill, events: { cursor: now, seen: [] } };
  return { backfill, created_cursor: now };
}
