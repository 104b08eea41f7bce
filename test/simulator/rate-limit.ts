// Stripe's request budgets: a global one per mode and one per endpoint, each "at most N requests
// in any one second", kept as a ring of the last N accepted request times.

export interface RateLimits {
  /** Requests per second for a live key (0: unlimited). */
  live: number;
  /** Requests per second for a test key (0: unlimited). */
  test: number;
  /** Requests per second to any one endpoint (0: unlimited). */
  endpoint: number;
  /** Give each connected account its own budgets instead of sharing the key's. */
  perAccount: boolean;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { live: 100, test: 25, endpoint: 25, perAccount: false };

class SlidingWindow {
  private readonly times: number[];
  private next = 0;
  private count = 0;

  constructor(private readonly limit: number) {
    this.times = new Array<number>(limit).fill(0);
  }

  /** Whether a request at `now` (ms) fits; does not record it. */
  fits(now: number): boolean {
    return this.count < this.limit || (this.times[this.next] as number) <= now - 1000;
  }

  record(now: number): void {
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.limit;
    if (this.count < this.limit) this.count++;
  }
}

export class RateLimiter {
  private readonly windows = new Map<string, SlidingWindow>();

  constructor(private limits: RateLimits = { ...DEFAULT_RATE_LIMITS }) {}

  get settings(): RateLimits {
    return { ...this.limits };
  }

  configure(limits: Partial<RateLimits>): void {
    this.limits = { ...this.limits, ...limits };
    this.windows.clear();
  }

  /**
   * Records the request and returns true if it is within both budgets; a refused request does
   * not count against them.
   */
  admit(key: string, mode: 'test' | 'live', account: string, endpoint: string, now = performance.now()): boolean {
    const owner = this.limits.perAccount ? `${key}|${account}` : key;
    const globalLimit = this.limits[mode];
    const windows: SlidingWindow[] = [];
    if (globalLimit > 0) windows.push(this.window(`${owner}`, globalLimit));
    if (this.limits.endpoint > 0) windows.push(this.window(`${owner}|${endpoint}`, this.limits.endpoint));
    if (!windows.every((w) => w.fits(now))) return false;
    for (const w of windows) w.record(now);
    return true;
  }

  private window(name: string, limit: number): SlidingWindow {
    let window = this.windows.get(name);
    if (!window) {
      window = new SlidingWindow(limit);
      this.windows.set(name, window);
    }
    return window;
  }
}
