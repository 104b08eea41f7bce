// The controls a race needs: responses held between their rendering and their sending, and
// targeted changes to named objects (with Stripe's events) landing in between.
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, listAll, stripeFor, truth } from './helpers.js';

interface HeldJson {
  endpoint: string;
  account: string;
  request_id: string;
  path: string;
  rendered_at: number;
}

interface HeldState {
  now: number;
  held: HeldJson[];
  rules: { endpoint: string; account: string | null; remaining: number }[];
  remaining: number;
}

interface ChangeReport {
  now: number;
  changes: { account: string; stream: string; id: string; action: string; previous?: Record<string, unknown>; current?: Record<string, unknown>; events: { id: string; type: string }[] }[];
  events: string[];
}

/** Polls `GET /_sim/held` until `count` responses are held. */
async function heldAtLeast(sim: RunningSimulator, count: number): Promise<HeldState> {
  for (;;) {
    const state = await control<HeldState>(sim, 'held');
    if (state.held.length >= count) return state;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The status and error message of a control request that should fail. */
async function refusal(sim: RunningSimulator, path: string, body: unknown): Promise<{ status: number; error: string }> {
  const response = await fetch(`${sim.url}/_sim/${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, error: ((await response.json()) as { error: string }).error };
}

const httpDate = (seconds: number) => new Date(seconds * 1000).toUTCString();

let sim: RunningSimulator;
let stripe: Stripe;
let platform: string;
let connected: string[];

beforeAll(async () => {
  sim = await startSimulator({ objects: 4000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
  stripe = stripeFor(sim);
  platform = (await control<{ platform: string }>(sim, 'info')).platform;
  connected = (await stripe.accounts.list()).data.map((a) => a.id);
});
afterAll(() => sim.close());

describe('held responses', () => {
  afterEach(async () => {
    await control(sim, 'release', { cancel_rules: true });
  });

  it('a held list page keeps the data it was rendered from and leaves with the Date of its release', async () => {
    const first = await stripe.customers.list({ limit: 3 });
    const newest = first.data[0] as Stripe.Customer;
    const { now } = await control<HeldState>(sim, 'hold', { endpoint: 'GET /v1/customers' });
    const page = stripe.customers.list({ limit: 3 });
    const state = await heldAtLeast(sim, 1);
    expect(state.held).toEqual([{ endpoint: 'GET /v1/customers', account: platform, request_id: expect.stringMatching(/^req_/), path: '/v1/customers?limit=3', rendered_at: now }]);
    expect(state.rules).toEqual([]);

    await control(sim, 'change', { changes: [{ account: platform, stream: 'customers', id: newest.id, update: { name: 'Renamed While Held' } }] });
    await control(sim, 'advance', { seconds: 1 });
    const released = await control<{ released: (HeldJson & { sent_at: number })[]; held: HeldJson[] }>(sim, 'release', {});
    expect(released.released).toEqual([{ ...state.held[0], sent_at: now + 1 }]);
    expect(released.held).toEqual([]);

    const stale = await page;
    expect(stale.data.map((c) => c.id)).toEqual(first.data.map((c) => c.id));
    expect(stale.data[0]?.name).toBe(newest.name);
    expect(stale.lastResponse.headers.date).toBe(httpDate(now + 1));
    expect(stale.lastResponse.requestId).toBe(state.held[0]?.request_id);

    const fresh = await stripe.customers.list({ limit: 3 });
    expect(fresh.data[0]?.name).toBe('Renamed While Held');
    expect(fresh.lastResponse.headers.date).toBe(httpDate(now + 1));
  });

  it("a rule for one account holds only that account's responses, as many as its count, released oldest first", async () => {
    const account = connected[0] as string;
    await control(sim, 'hold', { endpoint: 'GET /v1/products', account, count: 2 });
    await expect(stripe.products.list({ limit: 1 })).resolves.toMatchObject({ object: 'list' });
    await expect(stripe.products.list({ limit: 1 }, { stripeAccount: connected[1] as string })).resolves.toMatchObject({ object: 'list' });
    expect((await control<HeldState>(sim, 'held')).remaining).toBe(2);

    const one = stripe.products.list({ limit: 1 }, { stripeAccount: account });
    await heldAtLeast(sim, 1);
    const two = stripe.products.list({ limit: 2 }, { stripeAccount: account });
    const state = await heldAtLeast(sim, 2);
    expect(state.held.map((h) => [h.account, h.path])).toEqual([
      [account, '/v1/products?limit=1'],
      [account, '/v1/products?limit=2'],
    ]);
    expect(state).toMatchObject({ rules: [], remaining: 0 });
    // The rule has caught its two: the next request passes.
    await expect(stripe.products.list({ limit: 3 }, { stripeAccount: account })).resolves.toMatchObject({ object: 'list' });

    const firstRelease = await control<{ released: HeldJson[]; held: HeldJson[] }>(sim, 'release', { count: 1 });
    expect(firstRelease.released.map((h) => h.path)).toEqual(['/v1/products?limit=1']);
    expect(firstRelease.held.map((h) => h.path)).toEqual(['/v1/products?limit=2']);
    expect((await one).data).toHaveLength(1);
    await control(sim, 'release', {});
    expect((await two).data).toHaveLength(2);
  });

  it('several rules hold at once, each its own endpoint', async () => {
    const customer = (await truth(sim)).find((l) => l.stream === 'customers' && !l.deleted && l.account_id === platform);
    await control(sim, 'hold', { endpoint: 'GET /v1/charges' });
    const state = await control<HeldState>(sim, 'hold', { endpoint: 'GET /v1/customers/:id', count: 2 });
    expect(state.rules).toEqual([
      { endpoint: 'GET /v1/charges', account: null, remaining: 1 },
      { endpoint: 'GET /v1/customers/:id', account: null, remaining: 2 },
    ]);
    expect(state.remaining).toBe(3);
    const charges = stripe.charges.list({ limit: 1 });
    const retrieved = stripe.customers.retrieve(customer?.id as string);
    const held = await heldAtLeast(sim, 2);
    expect(held.held.map((h) => h.endpoint).sort()).toEqual(['GET /v1/charges', 'GET /v1/customers/:id']);
    expect(held.rules).toEqual([{ endpoint: 'GET /v1/customers/:id', account: null, remaining: 1 }]);
    await control(sim, 'release', {});
    await expect(charges).resolves.toMatchObject({ object: 'list' });
    await expect(retrieved).resolves.toMatchObject({ id: customer?.id });
  });

  it('error responses are not held and leave the rule in place; held requests count in the statistics at arrival', async () => {
    await control(sim, 'hold', { endpoint: 'GET /v1/charges' });
    await control(sim, 'faults', { error_rate: 1 });
    await expect(stripe.charges.list({ limit: 1 })).rejects.toMatchObject({ statusCode: 500 });
    await control(sim, 'faults', { error_rate: 0 });
    expect((await control<HeldState>(sim, 'held')).remaining).toBe(1);

    await control(sim, 'stats/reset', {});
    const page = stripe.charges.list({ limit: 1 });
    await heldAtLeast(sim, 1);
    const stats = await control<{ total: number; by_endpoint: Record<string, number>; by_status: Record<string, number> }>(sim, 'stats');
    expect(stats).toMatchObject({ total: 1, by_endpoint: { 'GET /v1/charges': 1 }, by_status: { '200': 1 } });
    await control(sim, 'release', {});
    await expect(page).resolves.toMatchObject({ object: 'list' });
  });

  it('a held response whose client gives up leaves the held list', async () => {
    await control(sim, 'hold', { endpoint: 'GET /v1/invoices' });
    const abort = new AbortController();
    const request = fetch(`${sim.url}/v1/invoices?limit=1`, { headers: { Authorization: 'Bearer rk_test_simulator' }, signal: abort.signal });
    await heldAtLeast(sim, 1);
    abort.abort();
    await expect(request).rejects.toThrow();
    for (let state = await control<HeldState>(sim, 'held'); state.held.length > 0; state = await control<HeldState>(sim, 'held')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await control<{ released: HeldJson[] }>(sim, 'release', {})).released).toEqual([]);
  });

  it('bad hold and release requests are refused with what to send', async () => {
    expect(await refusal(sim, 'hold', { endpoint: 'GET /v1/customer' })).toEqual({
      status: 400,
      error: expect.stringMatching(/^POST \/_sim\/hold needs \{"endpoint": E\} with E one of: GET \/v1\/account, .*GET \/v1\/customers, GET \/v1\/customers\/:id, .* \(got "GET \/v1\/customer"\)$/),
    });
    expect(await refusal(sim, 'hold', { endpoint: 'GET /v1/customers', account: 'acct_nobody' })).toEqual({
      status: 400,
      error: 'POST /_sim/hold: account "acct_nobody" is neither the platform nor one of its connected accounts',
    });
    expect(await refusal(sim, 'hold', { endpoint: 'GET /v1/customers', count: 0 })).toEqual({ status: 400, error: 'count must be a whole number ≥ 1 (got 0)' });
    expect(await refusal(sim, 'release', { count: 1.5 })).toEqual({ status: 400, error: 'count must be a whole number ≥ 1 (got 1.5)' });
    expect((await control<HeldState>(sim, 'held')).rules).toEqual([]);
  });
});

describe('closing with held responses', () => {
  it('drops them: the client sees the connection close, and close() resolves', async () => {
    const own = await startSimulator({ objects: 500, accounts: 1 });
    await control(own, 'hold', { endpoint: 'GET /v1/customers', count: 2 });
    const pages = [stripeFor(own).customers.list({ limit: 1 }), stripeFor(own).customers.list({ limit: 2 })];
    await heldAtLeast(own, 2);
    await own.close();
    for (const page of pages) await expect(page).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
  });
});

describe('changes to named objects', () => {
  const now = async () => (await control<{ now: number }>(sim, 'info')).now;

  it("an update shows at once in the API and the truth, with customer.updated at the account's version at the current time", async () => {
    const account = connected[0] as string;
    const options = { stripeAccount: account };
    const customer = (await stripe.customers.list({ limit: 1 }, options)).data[0] as Stripe.Customer;
    // Read twice, so that the simulator keeps the rendering: the change must replace it.
    await stripe.customers.list({ limit: 1 }, options);
    const at = await now();
    const report = await control<ChangeReport>(sim, 'change', {
      changes: [{ account, stream: 'customers', id: customer.id, update: { name: 'Ada Lovelace', email: 'ada@example.org', metadata: { crm_id: 'c-42' } } }],
    });
    const metadata = { ...customer.metadata, crm_id: 'c-42' };
    expect(report).toEqual({
      now: at,
      changes: [{
        account,
        stream: 'customers',
        id: customer.id,
        action: 'updated',
        previous: { name: customer.name, email: customer.email, metadata: customer.metadata },
        current: { name: 'Ada Lovelace', email: 'ada@example.org', metadata },
        events: [{ id: expect.stringMatching(/^evt_/), type: 'customer.updated' }],
      }],
      events: [report.changes[0]?.events[0]?.id],
    });
    expect(await now()).toBe(at);

    const listed = (await stripe.customers.list({ limit: 1 }, options)).data[0];
    const retrieved = await stripe.customers.retrieve(customer.id, {}, options);
    for (const shown of [listed, retrieved]) expect(shown).toMatchObject({ id: customer.id, name: 'Ada Lovelace', email: 'ada@example.org', metadata });
    const line = (await truth(sim)).find((l) => l.stream === 'customers' && l.id === customer.id);
    expect(line?.object).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.org', metadata });

    const [event] = (await stripe.events.list({ limit: 1 }, options)).data;
    expect(event).toMatchObject({
      id: report.events[0],
      account,
      type: 'customer.updated',
      created: at,
      api_version: sim.server.world.modes.test.connected.get(account)?.apiVersionAt(at),
      data: { previous_attributes: { name: customer.name, email: customer.email, metadata: customer.metadata } },
      request: { id: expect.stringMatching(/^req_/) },
    });
    const { lastResponse: _, ...plain } = retrieved as Stripe.Response<Stripe.Customer>;
    expect(event?.data.object).toEqual(plain);
  });

  it('deleting a customer ends its subscriptions first, as the business does', async () => {
    const lines = await truth(sim);
    const subscription = lines.find((l) => l.stream === 'subscriptions' && l.account_id === platform && l.object.status === 'active');
    const customerId = subscription?.object.customer as string;
    const report = await control<ChangeReport>(sim, 'change', { changes: [{ account: platform, stream: 'customers', id: customerId, delete: true }] });
    const live = lines.filter((l) => l.stream === 'subscriptions' && l.object.customer === customerId && ['active', 'past_due', 'unpaid', 'trialing', 'paused', 'incomplete'].includes(l.object.status as string));
    expect(report.changes).toEqual([{
      account: platform,
      stream: 'customers',
      id: customerId,
      action: 'deleted',
      events: [...live.map(() => ({ id: expect.stringMatching(/^evt_/), type: 'customer.subscription.deleted' })), { id: expect.stringMatching(/^evt_/), type: 'customer.deleted' }],
    }]);
    await expect(stripe.customers.retrieve(customerId)).resolves.toMatchObject({ id: customerId, deleted: true });
    await expect(stripe.subscriptions.retrieve(subscription?.id as string)).resolves.toMatchObject({ status: 'canceled', ended_at: report.now });
    const after = await truth(sim);
    expect(after.find((l) => l.stream === 'customers' && l.id === customerId)).toMatchObject({ deleted: true });
    const events = (await stripe.events.list({ limit: report.events.length })).data;
    expect(events.map((e) => e.id).reverse()).toEqual(report.events);
    expect(events[0]).toMatchObject({ type: 'customer.deleted', created: report.now, data: { object: { id: customerId, object: 'customer' } } });
  });

  it('a product with prices may not be deleted; one without prices, and a coupon, are, with their *.deleted events', async () => {
    const lines = await truth(sim);
    const pricedProducts = new Set(lines.filter((l) => l.stream === 'prices').map((l) => `${l.account_id}/${l.object.product as string}`));
    const products = lines.filter((l) => l.stream === 'products' && !l.deleted);
    const priced = products.find((l) => pricedProducts.has(`${l.account_id}/${l.id}`));
    const unpriced = products.find((l) => !pricedProducts.has(`${l.account_id}/${l.id}`));
    const coupon = lines.find((l) => l.stream === 'coupons' && !l.deleted && l.account_id === unpriced?.account_id);
    expect(await refusal(sim, 'change', { changes: [{ account: priced?.account_id, stream: 'products', id: priced?.id, delete: true }] })).toEqual({
      status: 400,
      error: `changes[0]: product ${priced?.id} has prices, and Stripe deletes only products without prices (archive it instead: "update": {"active": false})`,
    });

    const account = unpriced?.account_id as string;
    const report = await control<ChangeReport>(sim, 'change', {
      changes: [
        { account, stream: 'products', id: unpriced?.id, delete: true },
        { account, stream: 'coupons', id: coupon?.id, delete: true },
      ],
    });
    expect(report.changes.map((c) => [c.stream, c.action, c.events.map((e) => e.type)])).toEqual([
      ['products', 'deleted', ['product.deleted']],
      ['coupons', 'deleted', ['coupon.deleted']],
    ]);
    const options: Stripe.RequestOptions = account === platform ? {} : { stripeAccount: account };
    await expect(stripe.products.retrieve(unpriced?.id as string, {}, options)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    await expect(stripe.coupons.retrieve(coupon?.id as string, {}, options)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    const events = (await stripe.events.list({ limit: 2 }, options)).data;
    expect(events.map((e) => [e.type, (e.data.object as { id: string }).id])).toEqual([
      ['coupon.deleted', coupon?.id],
      ['product.deleted', unpriced?.id],
    ]);
  });

  it('archived prices and products are no longer sold: new subscriptions use only what stays active', async () => {
    const account = connected[0] as string;
    const options = { stripeAccount: account };
    const prices = await listAll(stripe.prices.list({ active: true, type: 'recurring', limit: 100 }, options));
    // Keep the product with the most prices on sale, less one of its prices; archive the others.
    const byProduct = new Map<string, Stripe.Price[]>();
    for (const price of prices) byProduct.set(price.product as string, [...(byProduct.get(price.product as string) ?? []), price]);
    const [kept, ...archived] = [...byProduct.keys()].sort((a, b) => (byProduct.get(b)?.length ?? 0) - (byProduct.get(a)?.length ?? 0));
    const [stillSold, archivedPrice] = byProduct.get(kept as string) as [Stripe.Price, Stripe.Price];
    const report = await control<ChangeReport>(sim, 'change', {
      changes: [
        { account, stream: 'prices', id: archivedPrice.id, update: { active: false, nickname: 'Legacy' } },
        ...archived.map((id) => ({ account, stream: 'products', id, update: { active: false } })),
      ],
    });
    expect(report.changes[0]).toMatchObject({ action: 'updated', previous: { active: true, nickname: archivedPrice.nickname }, current: { active: false, nickname: 'Legacy' }, events: [{ type: 'price.updated' }] });
    expect(report.changes.slice(1).map((c) => c.events.map((e) => e.type))).toEqual(archived.map(() => ['product.updated']));
    const priceEvent = await stripe.events.retrieve(report.events[0] as string, {}, options);
    expect(priceEvent.data.previous_attributes).toEqual({ active: true, nickname: archivedPrice.nickname });
    const product = await stripe.products.retrieve(archived[0] as string, {}, options);
    expect(product).toMatchObject({ active: false, updated: report.now });
    expect((await listAll(stripe.prices.list({ active: true, limit: 100 }, options))).some((p) => p.id === archivedPrice.id)).toBe(false);

    await control(sim, 'advance', { days: 90 });
    const started = await listAll(stripe.subscriptions.list({ created: { gt: report.now }, status: 'all', limit: 100 }, options));
    expect(started.length).toBeGreaterThan(0);
    // The business may launch new products meanwhile; it never sells what was archived.
    expect(archived.length).toBeGreaterThan(0);
    for (const sub of started) {
      expect(archived).not.toContain(sub.items.data[0]?.price.product);
      expect(sub.items.data[0]?.price.id).not.toBe(archivedPrice.id);
    }
    expect(started.filter((sub) => sub.items.data[0]?.price.id === stillSold.id).length).toBeGreaterThan(0);
  });

  it('an update that changes nothing makes no event', async () => {
    const coupon = (await stripe.coupons.list({ limit: 1 })).data[0] as Stripe.Coupon;
    const report = await control<ChangeReport>(sim, 'change', { changes: [{ account: platform, stream: 'coupons', id: coupon.id, update: { name: coupon.name } }] });
    expect(report.changes).toEqual([{ account: platform, stream: 'coupons', id: coupon.id, action: 'unchanged', events: [] }]);
    expect(report.events).toEqual([]);
  });

  it('bad changes are refused with a clear message, and a request with one bad change changes nothing', async () => {
    const lines = await truth(sim);
    const mine = (stream: string) => lines.find((l) => l.stream === stream && l.account_id === platform && !l.deleted)?.id as string;
    const customer = mine('customers');
    const cases: [unknown, string][] = [
      [{ account: platform, stream: 'prices', id: mine('prices'), delete: true }, 'changes[0]: Stripe does not let one delete prices (archive a price instead: "update": {"active": false})'],
      [{ account: platform, stream: 'charges', id: mine('charges'), delete: true }, 'changes[0]: Stripe does not let one delete charges'],
      [{ account: platform, stream: 'customers', id: customer, update: { balance: 5 } }, 'changes[0].update.balance: customers have no changeable field balance (changeable: name, email, description, phone, metadata)'],
      [{ account: platform, stream: 'customers', id: customer, update: { name: 5 } }, 'changes[0].update.name: must be a string or null'],
      [{ account: platform, stream: 'customers', id: customer, update: { metadata: { a: 1 } } }, 'changes[0].update.metadata.a: must be a string ("" or null removes the key)'],
      [{ account: platform, stream: 'customers', id: 'cus_nothere', update: { name: 'x' } }, `changes[0]: no customers object cus_nothere in account ${platform}`],
      [{ account: 'acct_nobody', stream: 'customers', id: customer, update: { name: 'x' } }, 'changes[0].account: acct_nobody is not an account in test mode'],
      [{ account: platform, stream: 'events', id: customer, update: { name: 'x' } }, expect.stringMatching(/^changes\[0\]\.stream: no stream events \(streams with objects: customers, products, /) as unknown as string],
      [{ account: platform, stream: 'balance_transactions', id: mine('balance_transactions'), update: { description: 'x' } }, expect.stringMatching(/^changes\[0\]\.stream: the simulator cannot change balance_transactions \(changeable: customers, products, prices, coupons, /) as unknown as string],
      [{ account: platform, stream: 'customers', id: customer }, 'changes[0] needs either "update": {field: value, …} or "delete": true'],
      [{ account: platform, stream: 'customers', id: customer, update: {}, delete: true }, 'changes[0] needs either "update": {field: value, …} or "delete": true'],
      [{ account: platform, stream: 'customers', id: customer, remove: true }, 'POST /_sim/change: changes[0]: unknown key remove'],
    ];
    for (const [change, error] of cases) {
      expect(await refusal(sim, 'change', { changes: [change] }), JSON.stringify(change)).toEqual({ status: 400, error });
    }
    expect(await refusal(sim, 'change', { changes: [] })).toEqual({ status: 400, error: expect.stringMatching(/^POST \/_sim\/change: changes: /) });

    const before = await (await fetch(`${sim.url}/_sim/truth`)).text();
    const twice = await refusal(sim, 'change', {
      changes: [
        { account: platform, stream: 'customers', id: customer, update: { name: 'Changed' } },
        { account: platform, stream: 'customers', id: customer, delete: true },
      ],
    });
    expect(twice).toEqual({ status: 400, error: `changes[1]: customers ${customer} is named by an earlier change; make one change per object` });
    const mixed = await refusal(sim, 'change', {
      changes: [
        { account: platform, stream: 'customers', id: customer, update: { name: 'Changed' } },
        { account: platform, stream: 'prices', id: mine('prices'), delete: true },
      ],
    });
    expect(mixed.status).toBe(400);
    expect(await (await fetch(`${sim.url}/_sim/truth`)).text()).toBe(before);
  });
});
