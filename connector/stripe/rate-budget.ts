// The request budget and the order requests go out in. Stripe limits requests globally (per key
// and mode) and per endpoint, each "N in any one second". We pace requests on our side under the
// same limits, so that they are spaced instead of refused, and choose which waiting request goes
// next: the endpoint with the most work left, because the busiest endpoints' own limits are what
// bound a backfill's duration (a little credit keeps the others moving, see earnCredit, but never
// at the expense of the few busiest, which the whole budget can run at their full rate).
//
// Stripe's limits are shared by every key of the account, the business's own traffic (its
// checkout) included: a 429 means the account as a whole is at its limit. Then the whole budget
// halves, once for all the requests that were already out, and grows back by a tenth of the full
// rate each calm second (from half to full in 5 s): additive increase, multiplicative decrease, as
// TCP shares a link. Crowding that lasts brings 429s again and again, each halving; a lone 429 (a
// second a little over the limit) costs a run about a second of requests. (A sixtieth, from half
// to full in 30 s, cost a 40-second backfill 7 s for each such 429: 0.77 of the ideal time.)
//
// Written here rather than taken from p-throttle or bottleneck: those queue calls first-in
// first-out per limiter, and neither picks among several per-endpoint budgets by priority.

/** The share of the budget kept at a 429. */
const BACKOFF = 0.5;
/** The share of the full budget regained each calm second. */
const RECOVERY_PER_SECOND = 1 / 10;
const MIN_SCALE = 1 / 16;
/** Ranks above any endpoint's work: a request's worth of credit, or being among the busiest. */
const CREDITED = Number.MAX_VALUE / 4;
/** Stripe counts requests in any one second: 429s up to a second after a halving are the same crowding. */
const CROWDING_MS = 1000;

/**
 * Evenly spaced sends (the generic cell rate algorithm). Stripe counts arrivals in any one
 * second; requests sent in bursts arrive bunched up, evenly spaced ones stay within the limit
 * whatever the network does. A send may come `tolerance` early, to catch up on a late timer.
 */
class Pacer {
  private due = 0;
  /** The share of `perSecond` in use: 1, lower after 429s. */
  scale = 1;

  constructor(
    private readonly perSecond: number,
    /** How early a send may come, as a share of the interval. */
    private readonly tolerance: number,
  ) {}

  private get interval(): number {
    return 1000 / (this.perSecond * this.scale);
  }

  /** The earliest time (ms) at which one more send fits. */
  freeAt(now: number): number {
    return Math.max(now, this.due - this.interval * this.tolerance);
  }

  record(now: number): void {
    this.due = Math.max(this.due, now - this.interval * this.tolerance) + this.interval;
  }
}

export interface BudgetSettings {
  /** Requests per second for the whole run. */
  readonly perSecond: number;
  /** Requests per second to any one endpoint. */
  readonly perEndpointPerSecond: number;
}

interface Waiting<T> {
  readonly priority: number;
  /** Whether the caller's estimate of the endpoint's work (endpointWeight) counts this request. */
  readonly estimated: boolean;
  readonly task: () => Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (reason: unknown) => void;
}

interface EndpointQueue {
  readonly items: Waiting<unknown>[];
  /** Waiting requests that no estimate counts: each is at least one request of work. */
  unestimated: number;
}

export interface SchedulerStats {
  /** 429s reported. */
  rateLimited: number;
  /** Times the budget was halved (429s for requests sent before the last halving do not count again). */
  backoffs: number;
  /** The share of the budget in use now (1 = full, lower after 429s). */
  scale: number;
}

export interface RunOptions {
  /** Among waiting requests to the same endpoint, higher goes first. */
  readonly priority?: number;
  /** The request is among the pages endpointWeight counts (by default it counts as one more). */
  readonly estimated?: boolean;
}

export class RequestScheduler {
  // The whole run may catch up half an interval; an endpoint, whose limit leaves less room, a tenth.
  private readonly global: Pacer;
  private readonly endpoints = new Map<string, Pacer>();
  private readonly waiting = new Map<string, EndpointQueue>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  private readonly credits = new Map<string, number>();
  private lastCredit = performance.now();
  /** When the budget was last halved, and when it last grew back. */
  private lastBackoff = -Infinity;
  private lastRecovery = 0;
  readonly stats: SchedulerStats = { rateLimited: 0, backoffs: 0, scale: 1 };

  constructor(
    readonly settings: BudgetSettings,
    private readonly maxInFlight = 64,
    /** How much work an endpoint has left, in requests (by default, its queue's length). */
    private readonly endpointWeight?: (endpoint: string) => number,
  ) {
    this.global = new Pacer(settings.perSecond, 0.5);
  }

  /** Runs `task` once the budget allows a request to `endpoint`. */
  run<T>(endpoint: string, task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let queue = this.waiting.get(endpoint);
      if (!queue) {
        queue = { items: [], unestimated: 0 };
        this.waiting.set(endpoint, queue);
      }
      const estimated = options.estimated ?? false;
      queue.items.push({ priority: options.priority ?? 0, estimated, task, resolve, reject } as Waiting<unknown>);
      if (!estimated) queue.unestimated++;
      this.pumpSoon();
    });
  }

  /**
   * Sends go out from a task of their own, never from inside a caller's stretch of work: a request
   * started there would reach the network only once that work is done, with any others started
   * meanwhile, arriving bunched up however evenly they were started.
   */
  private pumpSoon(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /**
   * A 429 rate_limit for a request sent at `sentAt` (ms, performance.now()): the account is at
   * its limit. The budget halves, unless it already did after that request was sent.
   */
  rateLimited(sentAt: number): void {
    const now = performance.now();
    this.stats.rateLimited++;
    this.recover(now);
    // Stripe counts the last second: for a second after a halving, its window still holds requests sent before.
    if (sentAt < this.lastBackoff + CROWDING_MS) return;
    this.lastBackoff = now;
    this.stats.backoffs++;
    this.global.scale = Math.max(MIN_SCALE, this.global.scale * BACKOFF);
    this.stats.scale = this.global.scale;
  }

  private recover(now: number): void {
    const seconds = (now - this.lastRecovery) / 1000;
    this.lastRecovery = now;
    if (this.global.scale < 1) {
      this.global.scale = Math.min(1, this.global.scale + seconds * RECOVERY_PER_SECOND);
      this.stats.scale = this.global.scale;
    }
  }

  private pacer(endpoint: string): Pacer {
    let pacer = this.endpoints.get(endpoint);
    if (!pacer) {
      pacer = new Pacer(this.settings.perEndpointPerSecond, 0.1);
      this.endpoints.set(endpoint, pacer);
    }
    return pacer;
  }

  /**
   * A little credit for every endpoint with work, at a tenth of its rate: whatever the
   * estimates say, every endpoint keeps reading, so that the pages that correct an estimate do
   * arrive. Credit is capped at one request, so it never becomes a burst.
   */
  private earnCredit(now: number): void {
    const seconds = Math.min(1, (now - this.lastCredit) / 1000);
    this.lastCredit = now;
    const rate = this.settings.perEndpointPerSecond / 10;
    for (const endpoint of this.waiting.keys()) {
      this.credits.set(endpoint, Math.min(1, (this.credits.get(endpoint) ?? 0) + rate * seconds));
    }
  }

  /** An endpoint's work left, in requests: its estimate and the waiting requests it does not count. */
  private weight(endpoint: string, queue: EndpointQueue): number {
    return this.endpointWeight ? this.endpointWeight(endpoint) + queue.unestimated + queue.items.length / 1e6 : queue.items.length;
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = performance.now();
    this.earnCredit(now);
    this.recover(now);
    while (this.inFlight < this.maxInFlight) {
      const globalFree = this.global.freeAt(now);
      // The endpoint with the most work left goes next (its own limit is what bounds the run),
      // unless another has saved up a request's worth of credit; but the busiest few, as many as
      // the budget can run at their own full rate besides one, go before any credit.
      const byWork = [...this.waiting].map(([endpoint, queue]) => ({ endpoint, queue, weight: this.weight(endpoint, queue) })).sort((a, b) => b.weight - a.weight);
      const busiest = Math.max(0, Math.floor((this.settings.perSecond * this.global.scale) / this.settings.perEndpointPerSecond) - 1);
      let best: { queue: EndpointQueue; endpoint: string; rank: number } | undefined;
      let soonest = Infinity;
      byWork.forEach(({ endpoint, queue, weight }, i) => {
        const free = Math.max(globalFree, this.pacer(endpoint).freeAt(now));
        if (free > now) {
          soonest = Math.min(soonest, free);
          return;
        }
        const rank = i < busiest ? 2 * CREDITED + weight : (this.credits.get(endpoint) ?? 0) >= 1 ? CREDITED + weight : weight;
        if (!best || rank > best.rank) best = { queue, endpoint, rank };
      });
      if (!best) {
        if (soonest < Infinity) this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(soonest - now)));
        return;
      }
      // Within an endpoint, the request with the highest priority (the most work behind it).
      const items = best.queue.items;
      let pick = 0;
      items.forEach((item, i) => {
        if (item.priority > (items[pick] as Waiting<unknown>).priority) pick = i;
      });
      const [item] = items.splice(pick, 1) as [Waiting<unknown>];
      if (!item.estimated) best.queue.unestimated--;
      if (items.length === 0) this.waiting.delete(best.endpoint);
      this.credits.set(best.endpoint, Math.max(0, (this.credits.get(best.endpoint) ?? 0) - 1));
      this.global.record(now);
      this.pacer(best.endpoint).record(now);
      this.inFlight++;
      item.task().then(item.resolve, item.reject).finally(() => {
        this.inFlight--;
        this.pumpSoon();
      });
    }
  }
}
