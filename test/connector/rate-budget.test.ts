// The request scheduler on a clock of its own (fake timers, performance.now() included): how fast
// it sends, in what order, and how it slows down after 429s and comes back.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestScheduler } from '../../connector/stripe/rate-budget.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'], now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Send {
  readonly at: number;
  readonly endpoint: string;
}

/** Queues `count` requests to `endpoint` that record when they went out and answer at once. */
function queue(scheduler: RequestScheduler, endpoint: string, count: number, sends: Send[], options: { estimated?: boolean } = {}): Promise<void>[] {
  return Array.from({ length: count }, () => scheduler.run(endpoint, async () => void sends.push({ at: performance.now(), endpoint }), options));
}

function sentBetween(sends: readonly Send[], from: number, to: number, endpoint?: string): number {
  return sends.filter((s) => s.at >= from && s.at < to && (endpoint === undefined || s.endpoint === endpoint)).length;
}

/** The most sends in any one second. */
function mostInASecond(times: readonly number[]): number {
  return Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
}

describe('the request scheduler', () => {
  it('sends evenly at its rate, at most one more in any second (a send may come half an interval early)', async () => {
    const scheduler = new RequestScheduler({ perSecond: 40, perEndpointPerSecond: 40 });
    const sends: Send[] = [];
    const done = Promise.all(['e0', 'e1', 'e2'].flatMap((endpoint) => queue(scheduler, endpoint, 60, sends)));
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(sends).toHaveLength(180);
    expect(mostInASecond(sends.map((s) => s.at))).toBe(41);
    expect(sentBetween(sends, 1000, 4000)).toBe(120);
  });

  it('keeps each endpoint to its own rate (and one more a second, as above), whatever the whole budget allows', async () => {
    const scheduler = new RequestScheduler({ perSecond: 100, perEndpointPerSecond: 10 });
    const sends: Send[] = [];
    const done = Promise.all(['e0', 'e1', 'e2'].flatMap((endpoint) => queue(scheduler, endpoint, 40, sends)));
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    for (const endpoint of ['e0', 'e1', 'e2']) {
      expect(mostInASecond(sends.filter((s) => s.endpoint === endpoint).map((s) => s.at))).toBe(11);
      expect(sentBetween(sends, 1000, 3000, endpoint)).toBe(20);
    }
  });

  it('serves the endpoint with the most work left first, and keeps the others moving with a tenth of their rate', async () => {
    const weights: Record<string, number> = { small: 10, large: 1000 };
    const scheduler = new RequestScheduler({ perSecond: 40, perEndpointPerSecond: 40 }, 64, (endpoint) => weights[endpoint] ?? 0);
    const sends: Send[] = [];
    void queue(scheduler, 'small', 60, sends, { estimated: true });
    void queue(scheduler, 'large', 60, sends, { estimated: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(sentBetween(sends, 0, 1000)).toBe(41);
    // A tenth of 40 a second: one request's worth of credit every 250 ms.
    expect(sentBetween(sends, 0, 1000, 'small')).toBe(4);
  });

  it('keeps the busiest endpoints at their full rate, as many as the budget can run so besides one; credit comes out of the rest', async () => {
    // 40 a second in all, 10 to an endpoint: the three busiest of twelve run at 10 a second each.
    const endpoints = Array.from({ length: 12 }, (_, i) => `e${i}`);
    const scheduler = new RequestScheduler({ perSecond: 40, perEndpointPerSecond: 10 }, 64, (endpoint) => 1000 - 10 * Number(endpoint.slice(1)));
    const sends: Send[] = [];
    for (const endpoint of endpoints) void queue(scheduler, endpoint, 30, sends, { estimated: true });
    await vi.advanceTimersByTimeAsync(3000);
    expect(endpoints.map((endpoint) => sentBetween(sends, 1000, 3000, endpoint))).toEqual([20, 20, 20, 4, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('counts each waiting request that no estimate covers as one more request of its endpoint', async () => {
    // The estimates say `paged` has 10 pages left and `other` none; `other` has 30 requests waiting.
    const firstSecond = async (otherEstimated: boolean) => {
      const scheduler = new RequestScheduler({ perSecond: 20, perEndpointPerSecond: 20 }, 64, (endpoint) => (endpoint === 'paged' ? 10 : 0));
      const sends: Send[] = [];
      const started = performance.now();
      void queue(scheduler, 'paged', 30, sends, { estimated: true });
      void queue(scheduler, 'other', 30, sends, { estimated: otherEstimated });
      await vi.advanceTimersByTimeAsync(1000);
      return sentBetween(sends, started, started + 1000, 'other');
    };
    // Counted, the 30 outweigh the 10 pages (`paged` gets its credit, 2 a second); left to the estimates, `other` gets only its credit.
    expect(await firstSecond(false)).toBe(19);
    expect(await firstSecond(true)).toBe(2);
  });

  it('starts a request from a task of its own, never inside the caller’s stretch of work', async () => {
    const scheduler = new RequestScheduler({ perSecond: 100, perEndpointPerSecond: 25 });
    let started = 0;
    void scheduler.run('e', async () => void started++);
    expect(started).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toBe(1);
  });

  it('halves the budget at a 429, once for the requests already out, and grows it back by a tenth a second', async () => {
    const scheduler = new RequestScheduler({ perSecond: 40, perEndpointPerSecond: 40 });
    const sends: Send[] = [];
    void queue(scheduler, 'e', 3000, sends);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sentBetween(sends, 1000, 2000)).toBe(40);

    scheduler.rateLimited(1950);
    expect(scheduler.stats).toEqual({ rateLimited: 1, backoffs: 1, scale: 0.5 });
    // 429s for requests sent before the halving, or within the second after it, are the same crowding.
    await vi.advanceTimersByTimeAsync(500);
    scheduler.rateLimited(1990);
    scheduler.rateLimited(2400);
    expect(scheduler.stats.rateLimited).toBe(3);
    expect(scheduler.stats.backoffs).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    // Half of 40 a second, growing back by a tenth of it over the second: 40 × 0.55.
    expect(sentBetween(sends, 2000, 3000)).toBe(22);

    // A 429 for a request sent over a second after the halving: the account is still at its limit.
    await vi.advanceTimersByTimeAsync(3000);
    scheduler.rateLimited(5500);
    expect(scheduler.stats.backoffs).toBe(2);
    expect(scheduler.stats.scale).toBeCloseTo((0.5 + 4 / 10) / 2, 3);

    // Calm seconds bring it back, a tenth of the budget each: 0.45 + 3/10 after 3 seconds.
    await vi.advanceTimersByTimeAsync(3000);
    expect(scheduler.stats.scale).toBeCloseTo((0.5 + 4 / 10) / 2 + 3 / 10, 2);
    expect(sentBetween(sends, 8000, 9000)).toBe(Math.round(40 * ((0.5 + 4 / 10) / 2 + 2.5 / 10)));
    // And all the way back, 5.5 seconds after the second halving.
    await vi.advanceTimersByTimeAsync(5000);
    expect(scheduler.stats.scale).toBe(1);
    expect(sentBetween(sends, 13_000, 14_000)).toBe(40);
  });
});
