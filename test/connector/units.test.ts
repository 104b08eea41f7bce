// Small parts of the sync engine on their own: interval sets, request pacing, retry advice, checkpoints.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { RequestScheduler } from '../../connector/stripe/rate-budget.js';
import { retryAdvice } from '../../connector/stripe/client.js';
import { addInterval, covers, gaps } from '../../connector/sync/intervals.js';
import { permissionNamed } from '../../connector/sync/failures.js';
import { ProtocolWriter } from '../../connector/protocol/writer.js';
import type { AirbyteMessage } from '../../connector/protocol/messages.js';
import { STREAMS } from '../../connector/streams/catalog.js';
import { StreamOutput } from '../../connector/sync/stream-output.js';

describe('interval sets', () => {
  it('merge overlapping and adjacent intervals and keep them sorted', () => {
    let set = addInterval([], 10, 20);
    set = addInterval(set, 30, 40);
    set = addInterval(set, 21, 25);
    expect(set).toEqual([[10, 25], [30, 40]]);
    set = addInterval(set, 26, 29);
    expect(set).toEqual([[10, 40]]);
    expect(addInterval([[10, 20]], 1, 3)).toEqual([[1, 3], [10, 20]]);
    expect(addInterval([[10, 20]], 5, 4)).toEqual([[10, 20]]);
  });

  it('give the gaps of a range, which are what a resumed backfill reads', () => {
    expect(gaps(0, 100, [])).toEqual([[0, 100]]);
    expect(gaps(0, 100, [[10, 20], [50, 100]])).toEqual([[0, 9], [21, 49]]);
    expect(gaps(0, 100, [[-5, 200]])).toEqual([]);
    expect(covers([[0, 50], [51, 100]], 0, 100)).toBe(true);
  });
});

describe('the request scheduler', () => {
  it('never sends more than its rate in any second, globally and per endpoint', async () => {
    const scheduler = new RequestScheduler({ perSecond: 40, perEndpointPerSecond: 15 }, 64);
    const sends: { at: number; endpoint: string }[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 90 }, (_, i) => scheduler.run(`e${i % 3}`, async () => void sends.push({ at: performance.now() - started, endpoint: `e${i % 3}` }))),
    );
    const maxInSecond = (times: number[]) => Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(maxInSecond(sends.map((s) => s.at))).toBeLessThanOrEqual(41);
    for (const endpoint of ['e0', 'e1', 'e2']) expect(maxInSecond(sends.filter((s) => s.endpoint === endpoint).map((s) => s.at))).toBeLessThanOrEqual(16);
  });

  it('serves the endpoint with the most work left first, and keeps the others moving', async () => {
    const weights: Record<string, number> = { small: 10, large: 1000 };
    const scheduler = new RequestScheduler({ perSecond: 40, perEndpointPerSecond: 40 }, 64, (e) => weights[e] ?? 0);
    const sent: Record<string, number> = { small: 0, large: 0 };
    const started = performance.now();
    const runs: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      for (const endpoint of ['small', 'large']) {
        runs.push(scheduler.run(endpoint, async () => void (performance.now() - started < 1000 && (sent[endpoint] = (sent[endpoint] ?? 0) + 1))));
      }
    }
    await Promise.all(runs);
    expect((sent.small ?? 0) + (sent.large ?? 0)).toBeGreaterThanOrEqual(38);
    expect(sent.large).toBeGreaterThanOrEqual(33);
    expect(sent.small).toBeGreaterThanOrEqual(2);
  });

  it('slows down after a 429, the endpoint it came from most', async () => {
    const scheduler = new RequestScheduler({ perSecond: 100, perEndpointPerSecond: 20 });
    for (let i = 0; i < 5; i++) scheduler.rateLimited('slow');
    expect(scheduler.stats.scale).toBeCloseTo(0.97 ** 5, 2);
    expect(scheduler.stats.rateLimited).toBe(5);
    // 20/s × 0.95^5 ≈ 15.5/s for the endpoint that was refused; the other keeps its 20/s.
    const count = async (endpoint: string) => {
      let n = 0;
      const started = performance.now();
      const runs: Promise<void>[] = [];
      for (let i = 0; i < 30; i++) runs.push(scheduler.run(endpoint, async () => void (performance.now() - started < 1000 && n++)));
      await Promise.all(runs);
      return n;
    };
    const [slow, other] = await Promise.all([count('slow'), count('other')]);
    expect(slow).toBeLessThanOrEqual(17);
    expect(other).toBeGreaterThanOrEqual(19);
  });
});

describe('retry advice', () => {
  const error = (status: number, code?: string, headers: Record<string, string> = {}) =>
    Stripe.errors.StripeError.generate({ type: status === 429 ? 'invalid_request_error' : 'api_error', message: 'x', code, statusCode: status, headers } as never);

  it('retries 429s, 5xx and 409s; a rate_limit 429 is our speed, a lock_timeout is not', () => {
    expect(retryAdvice(error(429, 'rate_limit'))).toEqual({ retry: true, rateLimited: true });
    expect(retryAdvice(error(429, 'lock_timeout'))).toEqual({ retry: true, rateLimited: false });
    expect(retryAdvice(error(500))).toEqual({ retry: true, rateLimited: false });
    expect(retryAdvice(error(409))).toEqual({ retry: true, rateLimited: false });
  });

  it('does not retry other 4xx, and follows Stripe-Should-Retry either way', () => {
    expect(retryAdvice(error(400)).retry).toBe(false);
    expect(retryAdvice(error(404)).retry).toBe(false);
    expect(retryAdvice(error(400, undefined, { 'stripe-should-retry': 'true' })).retry).toBe(true);
    expect(retryAdvice(error(500, undefined, { 'stripe-should-retry': 'false' })).retry).toBe(false);
  });

  it("names the permission in Stripe's 403 message", () => {
    expect(permissionNamed("… Having the 'rak_charge_read' permission would allow this request to continue.")).toBe('rak_charge_read');
    expect(permissionNamed('something else')).toBeNull();
  });
});

describe("a stream's checkpoints", () => {
  it('print a STATE once 2,000 records went out since the last one, not before', async () => {
    const printed: AirbyteMessage[] = [];
    const writer = new ProtocolWriter({ write: async (m) => void printed.push(m), flush: async () => {} });
    const output = StreamOutput.create(STREAMS.customers, 'incremental', undefined, writer, 'test', 'acct_platform');
    const states = () => printed.filter((m) => m.type === 'STATE') as { state: { sourceStats: { recordCount: number } } }[];
    for (let i = 0; i < 1999; i++) await output.emit({ id: `cus_${i}`, object: 'customer' }, 'acct_1', 1);
    await output.maybeCheckpoint();
    expect(states()).toHaveLength(0);
    await output.emit({ id: 'cus_1999', object: 'customer' }, 'acct_1', 1);
    await output.maybeCheckpoint();
    expect(states().map((s) => s.state.sourceStats.recordCount)).toEqual([2000]);
    await output.maybeCheckpoint();
    expect(states()).toHaveLength(1);
  });
});

describe('the protocol writer', () => {
  it('scrubs API keys from the text of every message but records and states', async () => {
    // Made up, and put together at run time, so that no key-shaped string sits in the sources.
    const key = ['rk', 'live', 'madeUpForThisTest0000'].join('_');
    const otherKey = ['sk', 'test', 'madeUpAsWell0000'].join('_');
    const printed: AirbyteMessage[] = [];
    const writer = new ProtocolWriter({ write: async (m) => void printed.push(m), flush: async () => {} });
    writer.addSecret(key);
    await writer.log('WARN', `Stripe said: Invalid API Key provided: ${key}`);
    await writer.error(`cannot use ${key}`, 'config_error', `internal ${key}; another: ${otherKey}`);
    expect(JSON.stringify(printed)).not.toContain(key);
    expect(printed[0]).toEqual({ type: 'LOG', log: { level: 'WARN', message: 'Stripe said: Invalid API Key provided: [redacted api key]' } });
    const error = (printed[1] as { trace: { error: { message: string; internal_message: string } } }).trace.error;
    expect([error.message, error.internal_message]).toEqual(['cannot use [redacted api key]', 'internal [redacted api key]; another: sk_test_[redacted]']);
  });
});
