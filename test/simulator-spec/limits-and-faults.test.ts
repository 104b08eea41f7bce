// Rate limits and injected faults, as a client sees them.
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, stripeFor } from './helpers.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function burst(s: RunningSimulator, paths: string[], headers: Record<string, string> = {}): Promise<{ status: number; code?: string }[]> {
  return Promise.all(
    paths.map(async (path) => {
      const response = await fetch(`${s.url}${path}`, { headers: { Authorization: 'Bearer rk_test_simulator', ...headers } });
      const body = (await response.json()) as { error?: { code?: string } };
      return { status: response.status, ...(body.error?.code ? { code: body.error.code } : {}) };
    }),
  );
}

describe('rate limits', () => {
  it('a burst beyond the test-mode budget of 25/s gets 429 rate_limit for the excess', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1 });
    const paths = Array.from({ length: 60 }, (_, i) => (i % 2 ? '/v1/customers?limit=1' : '/v1/charges?limit=1'));
    const results = await burst(sim, paths);
    expect(results.filter((r) => r.status === 200)).toHaveLength(25);
    expect(results.filter((r) => r.status === 429 && r.code === 'rate_limit')).toHaveLength(35);
  });

  it('each endpoint has its own budget under the global one', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1, rateLimits: { test: 100, endpoint: 10 } });
    const results = await burst(sim, [...Array(30).fill('/v1/customers?limit=1'), ...Array(30).fill('/v1/charges?limit=1')]);
    expect(results.slice(0, 30).filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.slice(30).filter((r) => r.status === 200)).toHaveLength(10);
  });

  it("requests for connected accounts count against the key's budget unless accounts get their own", async () => {
    sim = await startSimulator({ objects: 500, accounts: 1 });
    const [account] = (await stripeFor(sim).accounts.list()).data;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const platformAndConnected = async () => [
      ...(await burst(sim as RunningSimulator, Array(20).fill('/v1/customers?limit=1'))),
      ...(await burst(sim as RunningSimulator, Array(20).fill('/v1/products?limit=1'), { 'Stripe-Account': account?.id as string })),
    ];
    expect((await platformAndConnected()).filter((r) => r.status === 200)).toHaveLength(25);
    await control(sim, 'rate_limits', { per_account: true });
    expect((await platformAndConnected()).filter((r) => r.status === 200)).toHaveLength(40);
  });

  it('the SDK sees a rate-limited request as StripeRateLimitError', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1, rateLimits: { test: 1 } });
    const stripe = stripeFor(sim);
    await stripe.customers.list({ limit: 1 });
    await expect(stripe.customers.list({ limit: 1 })).rejects.toBeInstanceOf(Stripe.errors.StripeRateLimitError);
  });

  it('live keys get the live budget of 100/s', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1, modes: ['live'], rateLimits: { endpoint: 0 } });
    const results = await burst(sim, Array(130).fill('/v1/customers?limit=1'), { Authorization: 'Bearer rk_live_simulator' });
    expect(results.filter((r) => r.status === 200)).toHaveLength(100);
  });
});

describe('faults', () => {
  it('a 500 share answers that share of requests with api_error', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, faults: { errorRate: 0.3 } });
    const results = await burst(sim, Array(200).fill('/v1/customers?limit=1'));
    const errors = results.filter((r) => r.status === 500).length;
    expect(errors).toBeGreaterThan(35);
    expect(errors).toBeLessThan(85);
    expect(results.filter((r) => r.status !== 500).every((r) => r.status === 200)).toBe(true);
  });

  it('lock timeouts are 429 lock_timeout with Stripe-Should-Retry: true', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1, faults: { lockTimeoutRate: 1 } });
    const response = await fetch(`${sim.url}/v1/customers`, { headers: { Authorization: 'Bearer rk_test_simulator' } });
    expect(response.status).toBe(429);
    expect(response.headers.get('stripe-should-retry')).toBe('true');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('lock_timeout');
  });

  it('a dropped connection reaches the SDK as StripeConnectionError', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1, faults: { dropRate: 1 } });
    await expect(stripeFor(sim).customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
  });

  it('latency delays every response by at least the set time', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1 });
    await control(sim, 'faults', { latency_ms: 150, jitter_ms: 50 });
    const started = performance.now();
    await stripeFor(sim).customers.list({ limit: 1 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    await control(sim, 'faults', { latency_ms: 0, jitter_ms: 0 });
  });

  it('faults set at run time apply at once and can be lifted', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1 });
    const stripe = stripeFor(sim);
    await control(sim, 'faults', { error_rate: 1 });
    await expect(stripe.customers.list()).rejects.toMatchObject({ statusCode: 500, type: 'StripeAPIError' });
    await control(sim, 'faults', { error_rate: 0 });
    await expect(stripe.customers.list()).resolves.toBeDefined();
  });

  it('a connected account disconnected mid-run gets account_invalid and leaves the accounts list', async () => {
    sim = await startSimulator({ objects: 800, accounts: 2 });
    const stripe = stripeFor(sim);
    const [first, second] = (await stripe.accounts.list()).data.map((a) => a.id) as [string, string];
    await control(sim, 'faults', { disconnect_accounts: [first] });
    await expect(stripe.customers.list({}, { stripeAccount: first })).rejects.toMatchObject({ statusCode: 403, code: 'account_invalid' });
    await expect(stripe.customers.list({}, { stripeAccount: second })).resolves.toBeDefined();
    expect((await stripe.accounts.list()).data.map((a) => a.id)).toEqual([second]);
    await control(sim, 'faults', { reconnect_accounts: [first] });
    await expect(stripe.customers.list({}, { stripeAccount: first })).resolves.toBeDefined();
  });

  it('bad fault settings are refused with a reason', async () => {
    sim = await startSimulator({ objects: 500, accounts: 1 });
    await expect(control(sim, 'faults', { error_rate: 0.8, drop_rate: 0.5 })).rejects.toThrow(/add up to more than 1/);
    await expect(control(sim, 'faults', { latency_ms: -1 })).rejects.toThrow(/latencyMs must be a number/);
  });
});
