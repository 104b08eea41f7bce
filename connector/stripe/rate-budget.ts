// The request budget and the order requests go out in. Stripe limits requests globally (per key
// and mode) and per endpoint, each "N in any one second". We pace requests on our side under the
// same limits, so that they are spaced instead of refused, and choose which waiting request goes
// next: the endpoint with the most work left first, because the busiest endpoint's own limit is
// what bounds a backfill's duration. A 429 shrinks the budget; calm time restores it.
//
// Written here rather than taken from p-throttle or bottleneck: those queue calls first-in
// first-out per limiter, and neither picks among several per-endpoint budgets by priority.

/**
 * Evenly spaced sends at `perSecond` (the generic cell rate algorithm). Stripe counts arrivals in
 * any one second; requests sent in bursts arrive bunched up or spread out by the network, evenly
 * spaced ones stay within the limit. A send may come up to half an interval early, so that a
 * late timer is caught up on: at most `perSecond` + 1 sends fall in any second, with half an
 * interval to spare for network jitter.
 */
class Pacer {
  private interval: number;
  /** When the next send is due if sends came at exactly the rate. */
  private due = 0;

  constructor(perSecond: number) {
    this.interval = 1000 / perSecond;
  }

  setRate(perSecond: number): void {
    this.interval = 1000 / perSecond;
  }

  private get tolerance(): number {
    return this.interval / 2;
  }

  /** The earliest time (ms) at which one more send fits. */
  freeAt(now: number): number {
    return Math.max(now, this.due - this.tolerance);
  }

  record(now: number): void {
    this.due = Math.max(this.due, now - this.tolerance) + this.interval;
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
  sent: number;
  rateLimited: number;
  /** The share of the configured budget in use now (1 = full, lower after 429s). */
  scale: number;
}

/** Shrinks the budget to this share after a 429, and grows it back over calm seconds. */
const SHRINK = 0.85;
const RECOVER_PER_SECOND = 0.02;
const MIN_SCALE = 0.1;

export class RequestScheduler {
  private readonly global: Pacer;
  private readonly endpoints = new Map<string, Pacer>();
  private readonly waiting = new Map<string, Waiting<unknown>[]>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private scale = 1;
  private lastAdjust = performance.now();
  readonly stats: SchedulerStats = { sent: 0, rateLimited: 0, scale: 1 };

  constructor(
    private readonly settings: BudgetSettings,
    private readonly maxInFlight = 64,
    /** How much work an endpoint has left: the scheduler serves the largest first (by default, the longest queue). */
    private readonly endpointWeight?: (endpoint: string) => number,
  ) {
    this.global = new Pacer(this.globalRate());
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

  /** A 429 rate_limit: Stripe says we are too fast, whatever our windows think. */
  rateLimited(): void {
    this.stats.rateLimited++;
    this.setScale(this.scale * SHRINK);
  }

  private globalRate(): number {
    return Math.max(0.1, this.settings.perSecond * this.scale);
  }

  private endpointRate(): number {
    return Math.max(0.1, this.settings.perEndpointPerSecond * this.scale);
  }

  private setScale(scale: number): void {
    const clamped = Math.min(1, Math.max(MIN_SCALE, scale));
    if (clamped === this.scale) return;
    this.scale = clamped;
    this.stats.scale = clamped;
    this.global.setRate(this.globalRate());
    for (const pacer of this.endpoints.values()) pacer.setRate(this.endpointRate());
  }

  private recover(now: number): void {
    const seconds = (now - this.lastAdjust) / 1000;
    this.lastAdjust = now;
    if (this.scale < 1) this.setScale(this.scale + seconds * RECOVER_PER_SECOND);
  }

  private window(endpoint: string): Pacer {
    let pacer = this.endpoints.get(endpoint);
    if (!pacer) {
      pacer = new Pacer(this.endpointRate());
      this.endpoints.set(endpoint, pacer);
    }
    return pacer;
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = performance.now();
    this.recover(now);
    while (this.inFlight < this.maxInFlight) {
      const globalFree = this.global.freeAt(now);
      let best: { queue: Waiting<unknown>[]; weight: number } | undefined;
      let soonest = Infinity;
      for (const [endpoint, queue] of this.waiting) {
        if (queue.length === 0) continue;
        const free = Math.max(globalFree, this.window(endpoint).freeAt(now));
        if (free > now) {
          soonest = Math.min(soonest, free);
          continue;
        }
        const weight = this.endpointWeight ? this.endpointWeight(endpoint) + queue.length / 1e6 : queue.length;
        if (!best || weight > best.weight) best = { queue, weight };
      }
      if (!best) {
        if (soonest < Infinity) this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(soonest - now)));
        return;
      }
      // Within an endpoint, the request with the highest priority (the most work behind it).
      let pick = 0;
      best.queue.forEach((item, i) => {
        if (item.priority > (best.queue[pick] as Waiting<unknown>).priority) pick = i;
      });
      const [item] = best.queue.splice(pick, 1) as [Waiting<unknown>];
      if (best.queue.length === 0) this.waiting.delete(item.endpoint);
      this.global.record(now);
      this.window(item.endpoint).record(now);
      this.inFlight++;
      this.stats.sent++;
      item.task().then(item.resolve, item.reject).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}
