// List endpoints: pagination, order, created filters, status filters, Connect isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { listAll, stripeFor, truth, type TruthLine } from './helpers.js';

let sim: RunningSimulator;
let lines: TruthLine[];
let platform: string;
let connected: string[];

beforeAll(async () => {
  sim = await startSimulator({ objects: 4000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
  lines = await truth(sim);
  platform = (await stripeFor(sim).accounts.retrieveCurrent()).id;
  connected = (await stripeFor(sim).accounts.list()).data.map((a) => a.id);
});
afterAll(() => sim.close());

function truthIds(stream: string, account: string, keep: (l: TruthLine) => boolean = (l) => !l.deleted): string[] {
  return lines.filter((l) => l.stream === stream && l.account_id === account && keep(l)).map((l) => l.id);
}

describe('pagination', () => {
  const streams = [
    'customers', 'products', 'prices', 'coupons', 'invoices', 'payment_intents', 'charges', 'refunds', 'disputes',
    'credit_notes', 'payouts', 'balance_transactions', 'transfers', 'application_fees',
  ] as const;

  it.each(streams)('pages of %s return every object exactly once, newest first', async (stream) => {
    const stripe = stripeFor(sim);
    const list = (stripe as unknown as Record<string, { list: (p: object) => AsyncIterable<{ id: string; created: number }> }>)[
      stream === 'payment_intents' ? 'paymentIntents' : stream === 'balance_transactions' ? 'balanceTransactions' : stream === 'credit_notes' ? 'creditNotes' : stream === 'application_fees' ? 'applicationFees' : stream
    ] as { list: (p: object) => AsyncIterable<{ id: string; created: number }> };
    const seen: { id: string; created: number }[] = [];
    for await (const object of list.list({ limit: 7 })) seen.push(object);
    const ids = seen.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(truthIds(stream, platform).sort());
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]?.created).toBeGreaterThanOrEqual(seen[i]?.created as number);
  });

  it('subscriptions hide canceled ones unless a status asks for them', async () => {
    const stripe = stripeFor(sim);
    const byDefault = (await listAll(stripe.subscriptions.list({ limit: 100 }))).map((s) => s.id).sort();
    const all = (await listAll(stripe.subscriptions.list({ limit: 100, status: 'all' }))).map((s) => s.id).sort();
    const canceled = await listAll(stripe.subscriptions.list({ limit: 100, status: 'canceled' }));
    expect(all).toEqual(truthIds('subscriptions', platform).sort());
    expect(canceled.length).toBeGreaterThan(0);
    expect(canceled.every((s) => s.status === 'canceled')).toBe(true);
    expect(byDefault).toEqual(all.filter((id) => !canceled.some((s) => s.id === id)));
    const ended = await listAll(stripe.subscriptions.list({ limit: 100, status: 'ended' }));
    expect(ended.every((s) => s.status === 'canceled' || s.status === 'incomplete_expired')).toBe(true);
  });

  it('a page has the list envelope with the bare path as url', async () => {
    const response = await fetch(`${sim.url}/v1/charges?limit=3`, { headers: { Authorization: 'Bearer rk_test_simulator' } });
    const page = (await response.json()) as { object: string; data: unknown[]; has_more: boolean; url: string };
    expect(page.object).toBe('list');
    expect(page.url).toBe('/v1/charges');
    expect(page.data).toHaveLength(3);
    expect(page.has_more).toBe(true);
  });

  it('ending_before walks back towards newer objects', async () => {
    const stripe = stripeFor(sim);
    const first = (await stripe.charges.list({ limit: 10 })).data;
    const second = await stripe.charges.list({ limit: 10, starting_after: first[9]?.id as string });
    const back = await stripe.charges.list({ limit: 5, ending_before: second.data[0]?.id as string });
    expect(back.data.map((c) => c.id)).toEqual(first.slice(5).map((c) => c.id));
    expect(back.has_more).toBe(true);
    const top = await stripe.charges.list({ limit: 10, ending_before: first[5]?.id as string });
    expect(top.data.map((c) => c.id)).toEqual(first.slice(0, 5).map((c) => c.id));
    expect(top.has_more).toBe(false);
  });

  it('deleted objects are not listed but stay usable as cursors', async () => {
    const deleted = lines.find((l) => l.stream === 'customers' && l.account_id === platform && l.deleted);
    expect(deleted).toBeDefined();
    const stripe = stripeFor(sim);
    const all = await listAll(stripe.customers.list({ limit: 100 }));
    expect(all.some((c) => c.id === deleted?.id)).toBe(false);
    const after = await stripe.customers.list({ limit: 100, starting_after: deleted?.id as string });
    const created = deleted?.object.created as number;
    expect(after.data.every((c) => c.created <= created)).toBe(true);
  });
});

describe('created filters', () => {
  it('gt and lt are exclusive, gte and lte inclusive, an integer is exact', async () => {
    const stripe = stripeFor(sim);
    const charges = await listAll(stripe.charges.list({ limit: 100 }));
    const times = [...new Set(charges.map((c) => c.created))].sort((a, b) => a - b);
    const t = times[Math.floor(times.length / 2)] as number;
    const count = async (created: object) => (await listAll(stripe.charges.list({ limit: 100, created: created as never }))).length;
    const at = charges.filter((c) => c.created === t).length;
    const before = charges.filter((c) => c.created < t).length;
    const after = charges.filter((c) => c.created > t).length;
    expect(at).toBeGreaterThan(0);
    expect(await count({ gt: t })).toBe(after);
    expect(await count({ gte: t })).toBe(after + at);
    expect(await count({ lt: t })).toBe(before);
    expect(await count({ lte: t })).toBe(before + at);
    expect(await count({ gte: t, lte: t })).toBe(at);
    expect(await count({ gt: t, lt: t })).toBe(0);
    const exact = await listAll(stripe.charges.list({ limit: 100, created: t }));
    expect(exact.map((c) => c.created)).toEqual(Array(at).fill(t));
  });
});

describe('Connect', () => {
  it('each account sees only its own objects through Stripe-Account', async () => {
    const stripe = stripeFor(sim);
    const ids = new Map<string, string[]>();
    for (const account of [platform, ...connected]) {
      const options = account === platform ? {} : { stripeAccount: account };
      const customers = await listAll(stripe.customers.list({ limit: 100 }, options));
      ids.set(account, customers.map((c) => c.id).sort());
      expect(ids.get(account)).toEqual(truthIds('customers', account).sort());
    }
    const all = [...ids.values()].flat();
    expect(new Set(all).size).toBe(all.length);
  });

  it('GET /v1/account names the account the request acts for', async () => {
    const stripe = stripeFor(sim);
    expect((await stripe.accounts.retrieveCurrent()).id).toBe(platform);
    expect((await stripe.accounts.retrieveCurrent({}, { stripeAccount: connected[0] as string })).id).toBe(connected[0]);
  });

  it('a connected account lists no connected accounts of its own', async () => {
    const list = await stripeFor(sim).accounts.list({}, { stripeAccount: connected[0] as string });
    expect(list.data).toEqual([]);
  });

  it('objects carry no account field, but application fees name the connected account', async () => {
    const fees = await listAll(stripeFor(sim).applicationFees.list({ limit: 100 }));
    expect(fees.length).toBeGreaterThan(0);
    for (const fee of fees) expect(connected).toContain(fee.account);
  });
});

describe('expand', () => {
  it('expand[] replaces ids with the objects they name, in lists and on retrieve', async () => {
    const stripe = stripeFor(sim);
    const page = await stripe.charges.list({ limit: 5, expand: ['data.balance_transaction', 'data.customer'] });
    for (const charge of page.data.filter((c) => c.status === 'succeeded')) {
      const txn = charge.balance_transaction as { object: string; source: string };
      expect(txn.object).toBe('balance_transaction');
      expect(txn.source).toBe(charge.id);
    }
    const withCustomer = page.data.find((c) => c.customer !== null);
    expect((withCustomer?.customer as { object: string }).object).toBe('customer');
    const charge = await stripe.charges.retrieve(page.data[0]?.id as string, { expand: ['payment_intent'] });
    expect((charge.payment_intent as { object: string }).object).toBe('payment_intent');
  });

  it('expanding a field that holds no id gets 400', async () => {
    await expect(stripeFor(sim).charges.list({ expand: ['data.amount'] })).rejects.toMatchObject({ statusCode: 400, message: 'This property cannot be expanded (data.amount).' });
  });
});
