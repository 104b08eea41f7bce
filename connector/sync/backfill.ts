// Reading a stream of one account by `created`: the range not yet done is cut into slices read
// concurrently, newest first. Progress is recorded after every page as closed intervals of
// seconds whose objects have all been printed.
//
// How many pages a slice has left decides how the rate budget is shared (see rate-budget.ts), so
// it is estimated with care: from the density of objects where the slice is reading (a moving
// average: one page alone is noisy, renewals and payouts come in bursts), over the part of its
// range that can hold objects (not the years before the account existed). A slice that would
// outlast the rest of the run splits; each split costs a partly filled page, so only then.
import type { StripeList } from '../stripe/client.js';
import type { ReadContext } from './context.js';
import { addInterval, covers, gaps } from './intervals.js';
import type { PartitionState } from './state.js';
import type { StreamOutput, StripeObject } from './stream-output.js';

const PAGE = 100;
/** Weight of the newest page in a slice's moving density. */
const DENSITY_SMOOTHING = 0.25;
/** Where a slice began is the density after this many pages. */
const BEGAN_AFTER_PAGES = 3;
/** Growth is read from at least this much time. */
const GROWTH_SPAN = 7 * 86_400;
/** A slice that would outlast the run, with more pages left than this, splits. */
const SPLIT_ABOVE_PAGES = 60;
/** Aim for pieces of about this many pages. */
const PIECE_PAGES = 30;
const MAX_PIECES = 8;
/** At most this many slices of one stream and account at a time. */
const MAX_SLICES = 24;

interface Slice {
  lo: number;
  readonly hi: number;
  after: string | undefined;
  /** Pages estimated left; the stream's size hint until the first page tells. */
  estimate: number;
  /** Objects read so far. */
  read: number;
  /** Objects per second where the slice is reading (a moving average over pages). */
  density: number;
  /** The density where the slice began, after its first pages: how fast objects thin out going back. */
  began: { density: number; at: number } | undefined;
}

/**
 * Objects in the `span` seconds below where a slice reads. A growing business has fewer objects
 * further back: once the slice has read a week, the fall in its density so far is extrapolated.
 */
function objectsLeft(slice: Slice, oldest: number, span: number): number {
  const began = slice.began;
  const measured = began ? began.at - oldest : 0;
  if (!began || measured < GROWTH_SPAN || began.density <= slice.density || slice.density <= 0) return slice.density * span;
  const decay = Math.log(began.density / slice.density) / measured;
  return (slice.density * (1 - Math.exp(-decay * span))) / decay;
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
  const pending = definition.changesWhile;
  // Objects older than the account are rare: estimates do not count that time.
  const dataStart = ctx.createdAt.get(account) ?? -Infinity;
  const running = new Set<Promise<void>>();
  let active = 0;
  let failed = false;

  const setEstimate = (slice: Slice, estimate: number): void => {
    ctx.load.add(endpoint, estimate - slice.estimate);
    slice.estimate = estimate;
  };

  const start = (slice: Slice): void => {
    active++;
    // Until its first page, a slice's size is a guess: the run does not act on guesses.
    let unprobed = slice.read === 0;
    if (unprobed) ctx.load.unprobed++;
    const probed = () => {
      if (unprobed) ctx.load.unprobed--;
      unprobed = false;
    };
    ctx.load.add(endpoint, slice.estimate);
    const task = readSlice(slice, probed)
      .catch(async (error: unknown) => {
        failed = true;
        await ctx.fail(error, account, [output]);
      })
      .finally(() => {
        probed();
        active--;
        ctx.load.add(endpoint, -slice.estimate);
        running.delete(task);
      });
    running.add(task);
  };

  const readSlice = async (slice: Slice, probed: () => void): Promise<void> => {
    for (;;) {
      if (ctx.stopped(account) || failed) return;
      const observedAt = ctx.observationTime();
      const sent = performance.now();
      const reply = await ctx.api.list<StripeObject>(
        definition.path,
        { limit: PAGE, 'created[gte]': slice.lo, 'created[lte]': slice.hi, starting_after: slice.after, ...definition.listParams },
        // A slice not yet read goes first among its endpoint's: its size is still a guess.
        { endpoint, priority: slice.read === 0 ? Number.MAX_SAFE_INTEGER : slice.estimate, ...(account === ctx.platformId ? {} : { account }) },
      );
      ctx.sawServerTime(reply.serverTime);
      ctx.load.sawPage(performance.now() - sent);
      if (ctx.stopped(account) || failed) return;
      const page: StripeList<StripeObject> = reply.body;
      for (const object of page.data) {
        if (pending && object[pending.field] === pending.value && typeof object.created === 'number') {
          backfill.oldest_pending = Math.min(backfill.oldest_pending ?? Infinity, object.created);
        }
        await output.emit(object, account, observedAt);
      }
      const last = page.data[page.data.length - 1];
      if (!last || !page.has_more) {
        probed();
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
      const pageDensity = page.data.length / Math.max(1, newest - oldest + 1);
      const firstPage = slice.read === 0;
      slice.read += page.data.length;
      slice.density = firstPage ? pageDensity : slice.density * (1 - DENSITY_SMOOTHING) + pageDensity * DENSITY_SMOOTHING;
      if (!slice.began && slice.read >= BEGAN_AFTER_PAGES * PAGE) slice.began = { density: slice.density, at: oldest };
      const span = Math.max(1, oldest - Math.max(slice.lo, dataStart) + 1);
      const pagesLeft = Math.max(1, Math.ceil(objectsLeft(slice, oldest, span) / PAGE));
      setEstimate(slice, pagesLeft);
      probed();
      if (pagesLeft > SPLIT_ABOVE_PAGES && oldest - slice.lo >= 2 && active < MAX_SLICES && wouldOutlastTheRun(pagesLeft)) split(slice, oldest, pagesLeft);
      await output.maybeCheckpoint();
    }
  };

  /** Whether a slice reading `pagesLeft` pages alone would still run when the rest of the run is done. */
  const wouldOutlastTheRun = (pagesLeft: number): boolean => {
    if (ctx.load.unprobed > 0) return false;
    const budget = ctx.api.scheduler.settings;
    return ctx.load.sequentialSeconds(pagesLeft) > ctx.load.remainingSeconds(budget.perSecond, budget.perEndpointPerSecond);
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
      if (hi >= lo) start({ lo, hi, after: undefined, estimate: each, read: 0, density: 0, began: undefined });
    }
    slice.lo = bounds[pieces - 1] as number;
    setEstimate(slice, each);
  };

  for (const [lo, hi] of gaps(backfill.from, backfill.to, backfill.done)) {
    start({ lo, hi, after: undefined, estimate: definition.sizeHint, read: 0, density: 0, began: undefined });
  }
  while (running.size > 0) await Promise.race(running);
  if (failed || ctx.stopped(account)) return false;
  return covers(backfill.done, backfill.from, backfill.to);
}

function markDone(backfill: Backfill, from: number, to: number): void {
  backfill.done = addInterval(backfill.done, from, to);
}
