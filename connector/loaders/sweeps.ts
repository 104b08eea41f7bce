// Completed backfills that the warehouse has not yet acted on. A partition's state records its
// last completed backfill (`complete: {from, to, since}`): every object of that created range that
// still exists was listed with an observation time at or after `since`, so rows of the range
// observed earlier are objects Stripe no longer has. Each loader marks them deleted once, when the state
// that first carries the marker is committed.
import type { StreamState } from '../sync/state.js';

export interface CompleteBackfill {
  readonly account: string;
  readonly from: number;
  readonly to: number;
  /** Rows of the range observed before this are gone. */
  readonly since: number;
}

export function newCompleteBackfills(previous: StreamState | undefined, next: StreamState): CompleteBackfill[] {
  const out: CompleteBackfill[] = [];
  for (const [account, partition] of Object.entries(next.accounts)) {
    const complete = partition.complete;
    if (!complete) continue;
    const before = previous?.accounts[account]?.complete;
    if (before && before.from === complete.from && before.to === complete.to && before.since === complete.since) continue;
    out.push({ account, from: complete.from, to: complete.to, since: complete.since });
  }
  return out;
}
