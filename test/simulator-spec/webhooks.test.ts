// The simulator delivers its new events to webhook endpoints as Stripe does: to a small node:http
// receiver on loopback, signed, at the endpoint's API version, retried, at least once, not in order.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../loopback.js';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../simulator/index.js';
import { control, listAll, stripeFor } from './helpers.js';
import { Receiver, type Answer } from './webhook-receiver.js';

const WORLD: Partial<SimulatorOptions> = {
  objects: 600,
  accounts: 2,
  rateLimits: { test: 0, endpoint: 0 },
  webhookRetryBaseMs: 100,
  webhookMaxAttempts: 4,
};
const OLD_VERSION = '2024-06-20';
const SDK_VERSION = '2026-10-28.endive';

interface EndpointState {
  id: string;
  delivered: number;
  duplicates: number;
  pending: number;
  failed_attempts: number;
  failed: number;
  dropped: number;
  last_error: { event: string; attempt: number; error: string } | null;
}
interface WebhookState {
  paused: boolean;
  idle: boolean;
  pending: number;
  in_flight: number;
  endpoints: EndpointState[];
  deliveries?: { endpoint: string; state: string; duplicate: boolean; attempts: { sent_at_ms: number; result: string; retry_in_ms: number | null }[] }[];
}
interface ChangeReport {
  events: string[];
}

/** A simulator of its own for the tests of one describe, with endpoints and receivers cleaned up after each test. */
function simulatorFor(options: Partial<SimulatorOptions> = {}) {
  const context = {} as {
    sim: RunningSimulator;
    stripe: Stripe;
    platform: string;
    /** The connected account whose default API version is 2024-06-20, and the other one. */
    oldAccount: string;
    newAccount: string;
  };
  const receivers: Receiver[] = [];
  beforeAll(async () => {
    const sim = await startSimulator({ ...WORLD, ...options });
    const stripe = stripeFor(sim, 'sk_test_simulator');
    const accounts = (await stripe.accounts.list()).data.map((a) => a.id);
    const versions = await Promise.all(accounts.map(async (id) => (await stripe.events.list({ limit: 1 }, { stripeAccount: id })).data[0]?.api_version));
    Object.assign(context, {
      sim,
      stripe,
      platform: (await stripe.accounts.retrieveCurrent()).id,
      oldAccount: accounts[versions.indexOf(OLD_VERSION)],
      newAccount: accounts[versions.indexOf(SDK_VERSION)],
    });
    expect(context.oldAccount).toMatch(/^acct_/);
    expect(context.newAccount).toMatch(/^acct_/);
  });
  afterEach(async () => {
    for (const endpoint of await listAll(context.stripe.webhookEndpoints.list())) await context.stripe.webhookEndpoints.del(endpoint.id);
    await control(context.sim, 'webhooks/resume', {});
    await context.sim.server.webhooksIdle();
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });
  afterAll(() => context.sim.close());

  return Object.assign(context, {
    async receiver(answer?: Answer, port?: number): Promise<Receiver> {
      const receiver = await Receiver.start(answer, port);
      receivers.push(receiver);
      return receiver;
    },
    endpoint(url: string, params: Partial<Stripe.WebhookEndpointCreateParams> = {}) {
      return context.stripe.webhookEndpoints.create({ url, enabled_events: ['*'], ...params });
    },
    /** Updates a customer's (or another object's) metadata on an account: one `*.updated` event each. */
    async touch(account: string, stream: 'customers' | 'subscriptions', count = 1, label = 'touched'): Promise<string[]> {
      const list = stream === 'customers' ? context.stripe.customers.list({ limit: count }, { stripeAccount: account }) : context.stripe.subscriptions.list({ limit: count }, { stripeAccount: account });
      const ids = (await list).data.map((o) => o.id);
      expect(ids).toHaveLength(count);
      const report = await control<ChangeReport>(context.sim, 'change', {
        changes: ids.map((id) => ({ account, stream, id, update: { metadata: { label: `${label}-${Date.now()}` } } })),
      });
      return report.events;
    },
    async state(eventId?: string): Promise<WebhookState> {
      return control<WebhookState>(context.sim, `webhooks${eventId ? `?event=${eventId}` : ''}`);
    },
    async endpointState(id: string): Promise<EndpointState> {
      const found = (await this.state()).endpoints.find((e) => e.id === id);
      if (!found) throw new Error(`no delivery counts for ${id}`);
      return found;
    },
  });
}

/** Polls until `condition` holds: for waiting on retries that are due later. */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('who receives what', () => {
  const t = simulatorFor();

  it('delivers no history: an endpoint hears only of events made after it exists', async () => {
    const receiver = await t.receiver();
    const endpoint = await t.endpoint(receiver.url);
    const connect = await t.endpoint(receiver.url, { connect: true });
    await t.sim.server.webhooksIdle();
    expect((await t.stripe.events.list({ limit: 3 })).data).toHaveLength(3);
    const state = await t.state();
    expect(state).toMatchObject({ idle: true, pending: 0, in_flight: 0 });
    for (const id of [endpoint.id, connect.id]) {
      expect(state.endpoints.find((e) => e.id === id)).toMatchObject({ delivered: 0, pending: 0, failed_attempts: 0, last_error: null });
    }
    expect(receiver.received).toEqual([]);
    const events = await t.touch(t.platform, 'customers');
    await t.sim.server.webhooksIdle();
    expect(receiver.eventIds).toEqual(events);
    expect((await t.endpointState(endpoint.id)).delivered).toBe(1);
  });

  it("a platform endpoint receives the platform's events, a connect endpoint the connected accounts' with account", async () => {
    const platformReceiver = await t.receiver();
    const connectReceiver = await t.receiver();
    await t.endpoint(platformReceiver.url);
    await t.endpoint(connectReceiver.url, { connect: true });
    const platformEvents = await t.touch(t.platform, 'customers', 2);
    const connectedEvents = await t.touch(t.newAccount, 'customers', 3);
    await t.sim.server.webhooksIdle();
    expect(platformReceiver.eventIds.sort()).toEqual([...platformEvents].sort());
    expect(connectReceiver.eventIds.sort()).toEqual([...connectedEvents].sort());
    for (const { event } of connectReceiver.received) expect(event.account).toBe(t.newAccount);
    for (const { event, body } of platformReceiver.received) {
      expect('account' in event).toBe(false);
      expect(body).not.toContain('"account"');
    }
    expect(connectReceiver.received.map((r) => r.event.type)).toEqual(['customer.updated', 'customer.updated', 'customer.updated']);
  });

  it('enabled_events filters by type, and * takes every type', async () => {
    const customersOnly = await t.receiver();
    const everything = await t.receiver();
    await t.endpoint(customersOnly.url, { connect: true, enabled_events: ['customer.updated'] });
    await t.endpoint(everything.url, { connect: true });
    const customerEvents = await t.touch(t.oldAccount, 'customers', 2);
    const subscriptionEvents = await t.touch(t.oldAccount, 'subscriptions', 2);
    await t.sim.server.webhooksIdle();
    expect(customersOnly.eventIds.sort()).toEqual([...customerEvents].sort());
    expect(everything.eventIds.sort()).toEqual([...customerEvents, ...subscriptionEvents].sort());
    expect(new Set(everything.received.map((r) => r.event.type))).toEqual(new Set(['customer.updated', 'customer.subscription.updated']));
  });

  it('a deleted endpoint gets nothing more, and a disabled one nothing while disabled', async () => {
    const receiver = await t.receiver();
    const kept = await t.receiver();
    const endpoint = await t.endpoint(receiver.url, { connect: true });
    const disabled = await t.endpoint(kept.url, { connect: true });
    const first = await t.touch(t.newAccount, 'customers');
    await t.sim.server.webhooksIdle();
    await t.stripe.webhookEndpoints.del(endpoint.id);
    await t.stripe.webhookEndpoints.update(disabled.id, { disabled: true });
    await t.touch(t.newAccount, 'customers');
    await t.sim.server.webhooksIdle();
    await t.stripe.webhookEndpoints.update(disabled.id, { disabled: false });
    const third = await t.touch(t.newAccount, 'customers');
    await t.sim.server.webhooksIdle();
    expect(receiver.eventIds).toEqual(first);
    expect(kept.eventIds).toEqual([...first, ...third]);
    expect(await t.endpointState(endpoint.id)).toMatchObject({ delivered: 1, pending: 0 });
  });
});

describe('an advance of several days in a larger world', () => {
  const t = simulatorFor({ objects: 20_000, accounts: 5 });

  it('delivers every one of its thousand-odd events once to the platform and connect endpoints', async () => {
    const receiver = await t.receiver();
    const platform = await t.endpoint(receiver.url);
    const connect = await t.endpoint(receiver.url, { connect: true });
    const summary = await control<{ events: number }>(t.sim, 'advance', { days: 7 });
    expect(summary.events).toBeGreaterThan(1000);
    await t.sim.server.webhooksIdle();
    const ids = receiver.eventIds;
    expect(ids).toHaveLength(summary.events);
    expect(new Set(ids).size).toBe(summary.events);
    const platformState = await t.endpointState(platform.id);
    const connectState = await t.endpointState(connect.id);
    expect(platformState.delivered).toBe(receiver.received.filter((r) => r.event.account === undefined).length);
    expect(connectState.delivered).toBe(summary.events - platformState.delivered);
    expect(connectState).toMatchObject({ pending: 0, failed_attempts: 0, failed: 0 });
  });
});

describe('what a delivery holds', () => {
  const t = simulatorFor();

  it('is rendered at the endpoint api_version, at the event version without one, and /v1/events keeps its own', async () => {
    const pinned = await t.receiver();
    const unpinned = await t.receiver();
    await t.endpoint(pinned.url, { connect: true, api_version: SDK_VERSION });
    await t.endpoint(unpinned.url, { connect: true });
    const [eventId] = await t.touch(t.oldAccount, 'subscriptions');
    await t.sim.server.webhooksIdle();
    const [atEndpoint] = pinned.received;
    const [atDefault] = unpinned.received;
    expect(atEndpoint?.event).toMatchObject({ id: eventId, api_version: SDK_VERSION, account: t.oldAccount, type: 'customer.subscription.updated' });
    expect(atDefault?.event).toMatchObject({ id: eventId, api_version: OLD_VERSION, account: t.oldAccount });
    // Before basil a subscription's period is at the top; from basil on, on its items.
    expect(atDefault?.event.data.object.current_period_start).toEqual(expect.any(Number));
    expect('current_period_start' in (atEndpoint?.event.data.object ?? {})).toBe(false);
    const fromApi = await fetch(`${t.sim.url}/v1/events/${eventId}`, { headers: { authorization: 'Bearer sk_test_simulator', 'stripe-account': t.oldAccount } });
    expect(await fromApi.text()).toBe(atDefault?.body);
  });

  it('is signed with the endpoint secret (the SDK verifies it; another secret fails) and sent with Stripe headers', async () => {
    const receiver = await t.receiver();
    const endpoint = await t.endpoint(receiver.url);
    const other = await t.endpoint('https://example.com/unused', { enabled_events: ['coupon.deleted'] });
    const before = Math.floor(Date.now() / 1000);
    const [eventId] = await t.touch(t.platform, 'customers');
    await t.sim.server.webhooksIdle();
    const [received] = receiver.received;
    if (!received) throw new Error('nothing received');
    expect(received.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
    const header = received.headers['stripe-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    // The wall clock, not the simulated one: a receiver checks 300 s of tolerance against its own.
    const timestamp = Number(/^t=(\d+)/.exec(header)?.[1]);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const event = Stripe.webhooks.constructEvent(received.body, header, endpoint.secret as string);
    expect(event.id).toBe(eventId);
    expect(() => Stripe.webhooks.constructEvent(received.body, header, other.secret as string)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() => Stripe.webhooks.constructEvent(received.body.replace('"customer.updated"', '"customer.deleted"'), header, endpoint.secret as string)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it('never shows a secret in /_sim/webhooks', async () => {
    const receiver = await t.receiver();
    const endpoint = await t.endpoint(receiver.url);
    const [eventId] = await t.touch(t.platform, 'customers');
    await t.sim.server.webhooksIdle();
    const text = await (await fetch(`${t.sim.url}/_sim/webhooks?event=${eventId}`)).text();
    expect(text).toContain(endpoint.id);
    expect(text).not.toContain(endpoint.secret as string);
    expect(text).not.toContain('whsec_');
  });
});

describe('retries', () => {
  const t = simulatorFor();

  it('a receiver answering 500 twice then 200 gets the same bytes three times, with growing waits between', async () => {
    const receiver = await t.receiver((n) => (n < 2 ? 500 : 200));
    const endpoint = await t.endpoint(receiver.url);
    const [eventId] = await t.touch(t.platform, 'customers');
    await t.sim.server.webhooksIdle();
    expect(receiver.eventIds).toEqual([eventId, eventId, eventId]);
    const [first, second, third] = receiver.received.map((r) => r.body);
    expect(second).toBe(first);
    expect(third).toBe(first);
    const state = await t.state(eventId);
    const [delivery] = state.deliveries ?? [];
    expect(delivery).toMatchObject({ endpoint: endpoint.id, state: 'delivered', duplicate: false });
    const attempts = delivery?.attempts ?? [];
    expect(attempts.map((a) => a.result)).toEqual(['HTTP 500', 'HTTP 500', 'HTTP 200']);
    // The first retry waits the base (100 ms) to 1.5 times it; the second twice that.
    const [wait1, wait2] = attempts.map((a) => a.retry_in_ms as number);
    expect(wait1).toBeGreaterThanOrEqual(100);
    expect(wait1).toBeLessThanOrEqual(150);
    expect(wait2).toBeGreaterThanOrEqual(200);
    expect(wait2).toBeLessThanOrEqual(300);
    expect(attempts[2]?.retry_in_ms).toBeNull();
    const sent = attempts.map((a) => a.sent_at_ms);
    expect((sent[1] as number) - (sent[0] as number)).toBeGreaterThanOrEqual((wait1 as number) - 1);
    expect((sent[2] as number) - (sent[1] as number)).toBeGreaterThanOrEqual((wait2 as number) - 1);
    expect(await t.endpointState(endpoint.id)).toMatchObject({
      delivered: 1,
      pending: 0,
      failed_attempts: 2,
      failed: 0,
      last_error: { event: eventId, attempt: 2, error: 'HTTP 500' },
    });
  });

  it('a receiver that is down, then up, gets every event', async () => {
    const port = await closedPort();
    const endpoint = await t.endpoint(`http://127.0.0.1:${port}/webhooks`, { connect: true });
    const events = [...(await t.touch(t.newAccount, 'customers', 3)), ...(await t.touch(t.oldAccount, 'customers', 2))];
    await eventually(async () => (await t.endpointState(endpoint.id)).failed_attempts >= events.length, 'every event failed once');
    expect((await t.endpointState(endpoint.id)).last_error?.error).toBe('connection failed: ECONNREFUSED');
    const receiver = await t.receiver(() => 200, port);
    await t.sim.server.webhooksIdle();
    expect(new Set(receiver.eventIds)).toEqual(new Set(events));
    expect(await t.endpointState(endpoint.id)).toMatchObject({ delivered: events.length, pending: 0, failed: 0 });
  });

  it('gives a delivery up after webhookMaxAttempts (4 here)', async () => {
    const receiver = await t.receiver(() => 503);
    const endpoint = await t.endpoint(receiver.url);
    const [eventId] = await t.touch(t.platform, 'customers');
    await t.sim.server.webhooksIdle();
    expect(receiver.eventIds).toEqual([eventId, eventId, eventId, eventId]);
    expect(await t.endpointState(endpoint.id)).toMatchObject({ delivered: 0, pending: 0, failed_attempts: 4, failed: 1 });
    expect((await t.state(eventId)).deliveries?.[0]?.state).toBe('failed');
  });

  it('deleting an endpoint drops its pending retries', async () => {
    const port = await closedPort();
    const endpoint = await t.endpoint(`http://127.0.0.1:${port}/webhooks`);
    await t.touch(t.platform, 'customers', 2);
    await eventually(async () => (await t.endpointState(endpoint.id)).failed_attempts >= 2, 'both events failed once');
    await t.stripe.webhookEndpoints.del(endpoint.id);
    const state = await t.state();
    expect(state.pending).toBe(0);
    expect(state.endpoints.find((e) => e.id === endpoint.id)).toMatchObject({ pending: 0, dropped: 2, delivered: 0 });
  });
});

describe('timeouts', () => {
  const t = simulatorFor({ webhookTimeoutMs: 200 });

  it('a receiver that does not answer in time has failed the attempt, and the retry delivers', async () => {
    const receiver = await t.receiver((n) => (n === 0 ? 'hang' : 200));
    const endpoint = await t.endpoint(receiver.url);
    const [eventId] = await t.touch(t.platform, 'customers');
    await t.sim.server.webhooksIdle();
    expect(receiver.eventIds).toEqual([eventId, eventId]);
    expect((await t.state(eventId)).deliveries?.[0]?.attempts.map((a) => a.result)).toEqual(['timed out after 200 ms', 'HTTP 200']);
    expect(await t.endpointState(endpoint.id)).toMatchObject({ delivered: 1, failed_attempts: 1 });
  });
});

describe('at least once, not in order', () => {
  describe('with webhookDuplicateRate 1', () => {
    const t = simulatorFor({ webhookDuplicateRate: 1 });

    it('every event arrives twice, the same bytes', async () => {
      const receiver = await t.receiver();
      const endpoint = await t.endpoint(receiver.url, { connect: true });
      const events = await t.touch(t.newAccount, 'customers', 3);
      await t.sim.server.webhooksIdle();
      expect(receiver.eventIds.sort()).toEqual([...events, ...events].sort());
      for (const id of events) {
        const bodies = receiver.received.filter((r) => r.event.id === id).map((r) => r.body);
        expect(bodies[1]).toBe(bodies[0]);
      }
      expect(await t.endpointState(endpoint.id)).toMatchObject({ delivered: 3, duplicates: 3, pending: 0 });
    });
  });

  describe('one at a time', () => {
    const inOrder = simulatorFor({ webhookConcurrency: 1 });
    const shuffled = simulatorFor({ webhookConcurrency: 1, webhookShuffle: true });

    async function arrivals(t: typeof inOrder): Promise<{ arrived: string[]; made: string[] }> {
      const receiver = await t.receiver();
      await t.endpoint(receiver.url, { connect: true });
      const made = await t.touch(t.newAccount, 'customers', 8);
      await t.sim.server.webhooksIdle();
      return { arrived: receiver.eventIds, made };
    }

    it('without webhookShuffle, events leave in the order they were made', async () => {
      const { arrived, made } = await arrivals(inOrder);
      expect(arrived).toEqual(made);
    });

    it('with webhookShuffle, a batch leaves in another order, every event still once', async () => {
      const { arrived, made } = await arrivals(shuffled);
      expect(arrived).not.toEqual(made);
      expect([...arrived].sort()).toEqual([...made].sort());
    });
  });
});

describe('holding deliveries back', () => {
  const t = simulatorFor();

  it('POST /_sim/webhooks/pause keeps deliveries queued until /resume', async () => {
    const receiver = await t.receiver();
    const endpoint = await t.endpoint(receiver.url);
    expect((await control<WebhookState>(t.sim, 'webhooks/pause', {})).paused).toBe(true);
    const events = await t.touch(t.platform, 'customers', 2);
    await new Promise((resolve) => setImmediate(resolve));
    const paused = await t.state();
    expect(paused).toMatchObject({ paused: true, idle: false, pending: 2, in_flight: 0 });
    expect(receiver.received).toEqual([]);
    const waiting = fetch(`${t.sim.url}/_sim/webhooks?wait=1`).then(async (r) => (await r.json()) as WebhookState);
    await control(t.sim, 'webhooks/resume', {});
    const idle = await waiting;
    expect(idle).toMatchObject({ paused: false, idle: true, pending: 0 });
    expect(idle.endpoints.find((e) => e.id === endpoint.id)?.delivered).toBe(2);
    expect(receiver.eventIds.sort()).toEqual([...events].sort());
  });
});

describe('closing the simulator', () => {
  it('leaves no timer or socket behind: a process whose simulator has a retry due in 10 minutes ends once it is closed', async () => {
    const port = await closedPort();
    // No process.exit: the child ends only when nothing of the simulator is left running.
    const script = `
      import { startSimulator } from './test/simulator/index.ts';
      const sim = await startSimulator({ objects: 300, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, webhookRetryBaseMs: 600000 });
      const form = 'url=' + encodeURIComponent('http://127.0.0.1:${port}/webhooks') + '&enabled_events[0]=*';
      const headers = { authorization: 'Bearer sk_test_simulator', 'content-type': 'application/x-www-form-urlencoded' };
      await fetch(sim.url + '/v1/webhook_endpoints', { method: 'POST', headers, body: form });
      const platform = sim.server.world.modes.test.platform;
      const customer = platform.streams.customers.rows[0];
      const change = { changes: [{ account: platform.id, stream: 'customers', id: customer.id, update: { name: 'Closing' } }] };
      await fetch(sim.url + '/_sim/change', { method: 'POST', body: JSON.stringify(change) });
      for (;;) {
        const state = await (await fetch(sim.url + '/_sim/webhooks')).json();
        if (state.endpoints[0]?.failed_attempts === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await sim.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      expect(line).toBe('closed');
      const exited = once(child, 'exit').then(([code]) => code as number);
      const stuck = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000).unref());
      expect(await Promise.race([exited, stuck])).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stops pending retries: the receiver hears nothing more', async () => {
    const sim = await startSimulator({ ...WORLD, webhookRetryBaseMs: 50, webhookMaxAttempts: 100 });
    const receiver = await Receiver.start(() => 500);
    try {
      const stripe = stripeFor(sim, 'sk_test_simulator');
      await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
      const [customer] = (await stripe.customers.list({ limit: 1 })).data;
      const platform = (await stripe.accounts.retrieveCurrent()).id;
      await control(sim, 'change', { changes: [{ account: platform, stream: 'customers', id: customer?.id, update: { name: 'Closing' } }] });
      await eventually(async () => receiver.received.length >= 2, 'a retry arrived');
      await sim.close();
      const heard = receiver.received.length;
      expect((await sim.server.webhooksIdle()) === undefined).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.received.length).toBe(heard);
    } finally {
      await receiver.stop();
    }
  });
});
