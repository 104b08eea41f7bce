// Small parts of the sync engine on their own: interval sets, retry advice, checkpoints (the request scheduler: rate-budget.test.ts).
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
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
