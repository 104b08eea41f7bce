// Reading a stream of one account by `created`: the range not yet done is cut into slices read
// concurrently, newest first. Progress is recorded after every page as closed intervals of
// seconds whose objects have all been printed.
//
// A slice reads one page after another, so an endpoint runs at its rate only with enough slices
// at once: its rate times how long a slice takes per page (see EndpointLoad.missingSlices). When
// an endpoint has fewer, a slice with enough pages left splits; each split costs a partly filled
// page, so only then. How many pages a slice has left decides how the rate budget is shared
// between endpoints (see rate-budget.ts), so it is estimated with care, over the part of its range
// that can hold objects (not the years before the account existed): where another stream of the
// account has read that part already, from its objects there (an account's streams are busy and
// quiet together); otherwise from the slice's own density (see objectsLeft).
import { listQuery } from '../streams/catalog.js';
import type { StripeList } from '../stripe/client.js';
import type { ReadContext } from './context.js';
import { addInterval, covers, gaps } from './intervals.js';
import type { PartitionState } from './state.js';
import type { StreamOutput, StripeObject } from './stream-output.js';

const PAGE = 100;
/** Weight of the newest page in a slice's moving density (objects and seconds alike). */
const DENSITY_SMOOTHING = 0.25;
/** Where a slice began is the density after this many pages. */
const BEGAN_AFTER_PAGES = 3;
/** Growth is read from at least this much time. */
const GROWTH_SPAN = 7 * 86_400;
/** A split leaves pieces of at least this many pages (by the estimate). */
const MIN_PIECE_PAGES = 10;
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
  /**
   * Objects per second where the slice is reading: moving averages of a page's objects and of the
   * seconds it covers (back to the page before), divided, so that a page packed into one second
   * weighs as little as the second it covers.
   */
  density: number;
  recentObjects: number;
  recentSeconds: number;
  /** Where reading stands: the range's top, then the oldest time of the last page. */
  readTo: number;
  /** The density where the slice began, after its first pages: how fast objects thin out going back. */
  began: { density: number; at: number } | undefined;
}

/**
 * Objects in the `span` seconds below where a slice reads, from its own pages: the density where it
 * reads, or over all it has read if that is lower (reading through a burst or a busy season says
 * little of what lies beyond). A growing business has fewer objects further back: once the slice
 * has read a week, the fall in its density so far is extrapolated.
 */
function objectsLeft(slice: Slice, oldest: number, span: number): number {
  const overall = (slice.read / Math.max(1, slice.hi - oldest + 1)) * span;
  const began = slice.began;
  const measured = began ? began.at - oldest : 0;
  if (!began || measured < GROWTH_SPAN || began.density <= slice.density || slice.density <= 0) return Math.min(overall, slice.density * span);
  const decay = Math.log(began.density / slice.density) / measured;
  return Math.min(overall, (slice.density * (1 - Math.exp(-decay * span))) / decay);
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
    ctx.load.sliceStarted(endpoint);
    ctx.load.add(endpoint, slice.estimate);
    const task = readSlice(slice)
      .catch(async (error: unknown) => {
        failed = true;
        await ctx.fail(error, account, [output]);
      })
      .finally(() => {
        active--;
        ctx.load.sliceEnded(endpoint);
        ctx.load.add(endpoint, -slice.estimate);
        running.delete(task);
      });
    running.add(task);
  };

  const readSlice = async (slice: Slice): Promise<void> => {
    // One page at a time in a function of its own: while a slice waits for its next page, nothing
    // keeps its last one (a suspended function's registers would, with its 0.5 MB of objects and
    // text, for every slice waiting for the budget at once).
    while (await readPage(slice));
  };

  /** Reads the slice's next page; false when the slice is done (or must stop). */
  const readPage = async (slice: Slice): Promise<boolean> => {
    if (ctx.stopped(account) || failed) return false;
    const observedAt = ctx.observationTime();
    const reply = await ctx.api.list<StripeObject>(
      definition.path,
      { limit: PAGE, 'created[gte]': slice.lo, 'created[lte]': slice.hi, starting_after: slice.after, ...listQuery(definition) },
      // A slice not yet read goes first among its endpoint's: its size is still a guess.
      { endpoint, priority: slice.read === 0 ? Number.MAX_SAFE_INTEGER : slice.estimate, estimated: true, ...(account === ctx.platformId ? {} : { account }) },
    );
    const received = performance.now();
    ctx.sawServerTime(reply.serverTime);
    if (ctx.stopped(account) || failed) return false;
    const page: StripeList<StripeObject> = reply.body;
    for (const object of page.data) {
      if (pending && object[pending.field] === pending.value && typeof object.created === 'number') {
        backfill.oldest_pending = Math.min(backfill.oldest_pending ?? Infinity, object.created);
      }
      await output.emit(object, account, observedAt);
    }
    const last = page.data[page.data.length - 1];
    const created = page.data.map((object) => object.created ?? slice.lo);
    if (!last || !page.has_more) {
      ctx.load.sawPage(account, definition.name, created, slice.lo, slice.readTo);
      markDone(backfill, slice.lo, slice.hi);
      setEstimate(slice, 0);
      await output.checkpoint();
      return false;
    }
    const oldest = last.created ?? slice.lo;
    // Everything created after the oldest object of the page has been printed.
    markDone(backfill, oldest + 1, slice.hi);
    ctx.load.sawPage(account, definition.name, created, oldest + 1, slice.readTo);
    slice.after = last.id;
    const pageSeconds = Math.max(1, slice.readTo - oldest + 1);
    slice.readTo = oldest;
    const firstPage = slice.read === 0;
    slice.read += page.data.length;
    slice.recentObjects = firstPage ? page.data.length : slice.recentObjects * (1 - DENSITY_SMOOTHING) + page.data.length * DENSITY_SMOOTHING;
    slice.recentSeconds = firstPage ? pageSeconds : slice.recentSeconds * (1 - DENSITY_SMOOTHING) + pageSeconds * DENSITY_SMOOTHING;
    slice.density = slice.recentObjects / slice.recentSeconds;
    if (!slice.began && slice.read >= BEGAN_AFTER_PAGES * PAGE) slice.began = { density: slice.density, at: oldest };
    const from = Math.max(slice.lo, dataStart);
    const likeOthers = ctx.load.objectsLikeOtherStreams(account, definition.name, slice.read, oldest + 1, slice.hi, from, oldest);
    const pagesLeft = Math.max(1, Math.ceil((likeOthers ?? objectsLeft(slice, oldest, Math.max(1, oldest - from + 1))) / PAGE));
    setEstimate(slice, pagesLeft);
    const missing = ctx.load.missingSlices(endpoint, endpointRate());
    if (missing > 0 && pagesLeft >= 2 * MIN_PIECE_PAGES && oldest - slice.lo >= 2 && active < MAX_SLICES) split(slice, oldest, pagesLeft, missing + 1);
    await output.maybeCheckpoint();
    // The page's time out and its records' time here: how long a slice takes per page.
    ctx.load.sawCycle(reply.elapsedMs + performance.now() - received);
    return true;
  };

  /** Requests a second this endpoint may make: its own limit, or the whole run's if lower. */
  const endpointRate = (): number => {
    const budget = ctx.api.scheduler.settings;
    return Math.min(budget.perEndpointPerSecond, budget.perSecond * ctx.api.scheduler.stats.scale);
  };

  /** Cuts [lo, oldest] into up to `wanted` pieces: `slice` keeps the newest (it goes on from its cursor), the others start. */
  const split = (slice: Slice, oldest: number, pagesLeft: number, wanted: number): void => {
    const pieces = Math.min(MAX_PIECES, wanted, MAX_SLICES - active + 1, Math.floor(pagesLeft / MIN_PIECE_PAGES));
    if (pieces < 2) return;
    const width = (oldest - slice.lo + 1) / pieces;
    const bounds = Array.from({ length: pieces + 1 }, (_, i) => (i === pieces ? oldest + 1 : slice.lo + Math.round(i * width)));
    const each = Math.ceil(pagesLeft / pieces);
    for (let i = 0; i < pieces - 1; i++) {
      const lo = bounds[i] as number;
      const hi = (bounds[i + 1] as number) - 1;
      if (hi >= lo) start({ lo, hi, after: undefined, estimate: each, read: 0, density: 0, recentObjects: 0, recentSeconds: 1, readTo: hi, began: undefined });
    }
    slice.lo = bounds[pieces - 1] as number;
    setEstimate(slice, each);
  };

  for (const [lo, hi] of gaps(backfill.from, backfill.to, backfill.done)) {
    start({ lo, hi, after: undefined, estimate: definition.sizeHint, read: 0, density: 0, recentObjects: 0, recentSeconds: 1, readTo: hi, began: undefined });
  }
  while (running.size > 0) await Promise.race(running);
  if (failed || ctx.stopped(account)) return false;
  return covers(backfill.done, backfill.from, backfill.to);
}

function markDone(backfill: Backfill, from: number, to: number): void {
  backfill.done = addInterval(backfill.done, from, to);
}
