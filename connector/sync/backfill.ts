// Reading a stream of one account by `created`: the range not yet done is cut into slices read
// concurrently, newest first. After each page the slice knows how dense its objects are; a slice
// with many pages left splits off its older part into new slices, so that a large account does
// not become the long tail of the run. Progress is recorded after every page as closed intervals
// of seconds whose objects have all been printed.
import type { StripeList } from '../stripe/client.js';
import type { ReadContext } from './context.js';
import { addInterval, gaps } from './intervals.js';
import type { PartitionState } from './state.js';
import type { StreamOutput, StripeObject } from './stream-output.js';

const PAGE = 100;
/** A slice with more pages left than this splits. */
const SPLIT_ABOVE_PAGES = 40;
/** Aim for pieces of about this many pages: each piece costs one partly filled page. */
const PIECE_PAGES = 20;
const MAX_PIECES = 8;
/** At most this many slices of one stream and account at a time. */
const MAX_SLICES = 24;

interface Slice {
  lo: number;
  readonly hi: number;
  after: string | undefined;
  /** Pages estimated left; 1 until the first page tells. */
  estimate: number;
}

type Backfill = NonNullable<PartitionState['backfill']>;

/**
 * Reads what is left of `partition.backfill` for `account`, printing records as pages arrive.
 * Returns true when the backfill is complete.
 */
export async function runBackfill(ctx: ReadContext, output: StreamOutput, account: string, partition: PartitionState): Promise<boolean> {
  const backfill = partition.backfill;
  if (!backfill) return true;
  const definition = output.definition;
  const endpoint = `GET ${definition.path}`;
  const running = new Set<Promise<void>>();
  let active = 0;
  let failed = false;

  const start = (slice: Slice): void => {
    active++;
    ctx.load.add(endpoint, slice.estimate);
    const task = readSlice(slice)
      .catch(async (error: unknown) => {
        failed = true;
        await ctx.fail(error, account, output);
      })
      .finally(() => {
        active--;
        ctx.load.add(endpoint, -slice.estimate);
        running.delete(task);
      });
    running.add(task);
  };

  const setEstimate = (slice: Slice, estimate: number): void => {
    ctx.load.add(endpoint, estimate - slice.estimate);
    slice.estimate = estimate;
  };

  const readSlice = async (slice: Slice): Promise<void> => {
    for (;;) {
      if (ctx.stopped(account) || failed) return;
      const reply = await ctx.api.list<StripeObject>(
        definition.path,
        { limit: PAGE, 'created[gte]': slice.lo, 'created[lte]': slice.hi, starting_after: slice.after, ...definition.listParams },
        { endpoint, priority: slice.estimate, ...(account === ctx.platformId ? {} : { account }) },
      );
      ctx.sawServerTime(reply.serverTime);
      if (ctx.stopped(account) || failed) return;
      const page: StripeList<StripeObject> = reply.body;
      for (const object of page.data) await output.emit(object, account, reply.serverTime);
      const last = page.data[page.data.length - 1];
      if (!last || !page.has_more) {
        markDone(backfill, slice.lo, slice.hi);
        setEstimate(slice, 0);
        await output.checkpoint();
        return;
      }
      const newest = (page.data[0] as StripeObject).created ?? slice.hi;
      const oldest = last.created ?? slice.lo;
      // Everything created after the oldest object of the page has been printed.
      markDone(backfill, oldest + 1, slice.hi);
      slice.after = last.id;
      const density = page.data.length / Math.max(1, newest - oldest + 1);
      const pagesLeft = Math.max(1, Math.ceil((density * (oldest - slice.lo + 1)) / PAGE));
      setEstimate(slice, pagesLeft);
      if (pagesLeft > SPLIT_ABOVE_PAGES && oldest - slice.lo >= 2 && active < MAX_SLICES) split(slice, oldest, pagesLeft);
      await output.maybeCheckpoint();
    }
  };

  /** Keeps the newest piece of [lo, oldest] for `slice` (it goes on from its cursor) and starts the others. */
  const split = (slice: Slice, oldest: number, pagesLeft: number): void => {
    const pieces = Math.min(MAX_PIECES, MAX_SLICES - active + 1, Math.floor(pagesLeft / PIECE_PAGES));
    if (pieces < 2) return;
    const width = (oldest - slice.lo + 1) / pieces;
    const bounds = Array.from({ length: pieces + 1 }, (_, i) => (i === pieces ? oldest + 1 : slice.lo + Math.round(i * width)));
    const each = Math.ceil(pagesLeft / pieces);
    for (let i = 0; i < pieces - 1; i++) {
      const lo = bounds[i] as number;
      const hi = (bounds[i + 1] as number) - 1;
      if (hi >= lo) start({ lo, hi, after: undefined, estimate: each });
    }
    slice.lo = bounds[pieces - 1] as number;
    setEstimate(slice, each);
  };

  for (const [lo, hi] of gaps(backfill.from, backfill.to, backfill.done)) start({ lo, hi, after: undefined, estimate: 1 });
  while (running.size > 0) await Promise.race(running);
  if (failed || ctx.stopped(account)) return false;
  return gaps(backfill.from, backfill.to, backfill.done).length === 0;
}

function markDone(backfill: Backfill, from: number, to: number): void {
  backfill.done = addInterval(backfill.done, from, to);
}
