// The request budget and the order requests go out in. Stripe limits requests globally (per key
// and mode) and per endpoint, each "N in any one second". We pace requests on our side under the
// same limits, so that they are spaced instead of refused, and choose which waiting request goes
// next: the endpoint with the most work left, because the busiest endpoints' own limits are what
// bound a backfill's duration (a little credit keeps the others moving, see earnCredit).
// A 429 slows down the endpoint it came from (and a little the whole run); calm time restores
// the full rate.
//
// Written here rather than taken from p-throttle or bottleneck: those queue calls first-in
// first-out per limiter, and neither picks among several per-endpoint budgets by priority.

/** A rate's share in use after 429s: shrinks on each, grows back over calm seconds. */
const ENDPOINT_SHRINK = 0.95;
const GLOBAL_SHRINK = 0.97;
const RECOVER_PER_SECOND = 0.1;
const MIN_SCALE = 0.1;

/**
 * Evenly spaced sends (the generic cell rate algorithm). Stripe counts arrivals in any one
 * second; requests sent in bursts arrive bunched up, evenly spaced ones stay within the limit
 * whatever the network does. A send may come `tolerance` early, to catch up on a late timer.
 */
class Pacer {
  private due = 0;
  private scale = 1;
  private lastRecovery = 0;

  constructor(
    private readonly perSecond: number,
    /** How early a send may come, as a share of the interval. */
    private readonly tolerance: number,
  ) {}

  get share(): number {
    return this.scale;
  }

  private get interval(): number {
    return 1000 / Math.max(0.1, this.perSecond * this.scale);
  }

  /** The earliest time (ms) at which one more send fits. */
  freeAt(now: number): number {
    this.recover(now);
    return Math.max(now, this.due - this.interval * this.tolerance);
  }

  record(now: number): void {
    this.due = Math.max(this.due, now - this.interval * this.tolerance) + this.interval;
  }

  shrink(factor: number, now: number): void {
    this.recover(now);
    this.scale = Math.max(MIN_SCALE, this.scale * factor);
  }

  private recover(now: number): void {
    if (this.scale < 1 && this.lastRecovery > 0) this.scale = Math.min(1, this.scale + ((now - this.lastRecovery) / 1000) * RECOVER_PER_SECOND);
    this.lastRecovery = now;
  }
}

export interface BudgetSettings {
  /** Requests per second for the whole run. */
  readonly perSecond: number;
  /** Requests per second to any one endpoint. */
  readonly perEndpointPerSecond: number;
}

interface Waiting<T> {
  readonly endpoint: string;
  readonly priority: number;
  readonly task: () => Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (reason: unknown) => void;
}

export interface SchedulerStats {
  rateLimited: number;
  /** The share of the global budget in use now (1 = full, lower after 429s). */
  scale: number;
}

export class RequestScheduler {
  // The whole run may catch up half an interval; an endpoint, whose limit leaves less room, a tenth.
  private readonly global: Pacer;
  private readonly endpoints = new Map<string, Pacer>();
  private readonly waiting = new Map<string, Waiting<unknown>[]>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly credits = new Map<string, number>();
  private lastCredit = performance.now();
  readonly stats: SchedulerStats = { rateLimited: 0, scale: 1 };

  constructor(
    readonly settings: BudgetSettings,
    private readonly maxInFlight = 64,
    /** How much work an endpoint has left, in requests (by default, its queue's length). */
    private readonly endpointWeight?: (endpoint: string) => number,
  ) {
    this.global = new Pacer(settings.perSecond, 0.5);
  }

  /** Runs `task` once the budget allows a request to `endpoint`. */
  run<T>(endpoint: string, task: () => Promise<T>, priority = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.waiting.get(endpoint) ?? [];
      queue.push({ endpoint, priority, task, resolve, reject } as Waiting<unknown>);
      this.waiting.set(endpoint, queue);
      this.pump();
    });
  }

  /** A 429 rate_limit from `endpoint`: Stripe says we are too fast there, whatever our pacing thinks. */
  rateLimited(endpoint?: string): void {
    const now = performance.now();
    this.stats.rateLimited++;
    this.global.shrink(GLOBAL_SHRINK, now);
    if (endpoint) this.pacer(endpoint).shrink(ENDPOINT_SHRINK, now);
    this.stats.scale = this.global.share;
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

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = performance.now();
    this.earnCredit(now);
    while (this.inFlight < this.maxInFlight) {
      const globalFree = this.global.freeAt(now);
      // The endpoint with the most work left goes next (its own limit is what bounds the run),
      // unless another has saved up a request's worth of credit.
      let best: { queue: Waiting<unknown>[]; endpoint: string; rank: number } | undefined;
      let soonest = Infinity;
      for (const [endpoint, queue] of this.waiting) {
        const free = Math.max(globalFree, this.pacer(endpoint).freeAt(now));
        if (free > now) {
          soonest = Math.min(soonest, free);
          continue;
        }
        const weight = this.endpointWeight ? this.endpointWeight(endpoint) + queue.length / 1e6 : queue.length;
        const rank = (this.credits.get(endpoint) ?? 0) >= 1 ? Number.MAX_VALUE / 2 + weight : weight;
        if (!best || rank > best.rank) best = { queue, endpoint, rank };
      }
      if (!best) {
        if (soonest < Infinity) this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(soonest - now)));
        return;
      }
      // Within an endpoint, the request with the highest priority (the most work behind it).
      const queue = best.queue;
      let pick = 0;
      queue.forEach((item, i) => {
        if (item.priority > (queue[pick] as Waiting<unknown>).priority) pick = i;
      });
      const [item] = queue.splice(pick, 1) as [Waiting<unknown>];
      if (queue.length === 0) this.waiting.delete(item.endpoint);
      this.credits.set(best.endpoint, Math.max(0, (this.credits.get(best.endpoint) ?? 0) - 1));
      this.global.record(now);
      this.pacer(item.endpoint).record(now);
      this.inFlight++;
      item.task().then(item.resolve, item.reject).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}
