// The controls a race needs: targeted changes to named objects, with Stripe's events, at the
// current simulated time.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, listAll, stripeFor, truth } from './helpers.js';

interface ChangeReport {
  now: number;
  changes: { account: string; stream: string; id: string; action: string; previous?: Record<string, unknown>; current?: Record<string, unknown>; events: { id: string; type: string }[] }[];
  events: string[];
}

/** The status and error message of a control request that should fail. */
async function refusal(sim: RunningSimulator, path: string, body: unknown): Promise<{ status: number; error: string }> {
  const response = await fetch(`${sim.url}/_sim/${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, error: ((await response.json()) as { error: string }).error };
}

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
