// Subscriptions' discounts: Stripe's Discount objects, linked to the coupon the business applied;
// ids unless expanded (`expand[]=data.discounts` on lists, `expand[]=discounts` on retrieve),
// ids in events, expanded in the truth (what the connector reads and the warehouse holds).
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../connector/stripe/client.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { stripeFor, truth, type TruthLine } from './helpers.js';

const DAY = 86_400;

type Fields = Record<string, unknown> & { id: string };

let sim: RunningSimulator;
let lines: TruthLine[];
beforeAll(async () => {
  sim = await startSimulator({ seed: 'discounts', objects: 9000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
  lines = await truth(sim);
});
afterAll(() => sim.close());

/** The truth's objects of a stream (every account's, deleted ones too). */
const objectsOf = (stream: string): (Fields & { account: string })[] =>
  lines.filter((l) => l.stream === stream).map((l) => ({ ...(l.object as Fields), account: l.account_id }));

/** The platform's objects of a stream in the truth. */
const platformObjects = (stream: string): Fields[] => {
  const platform = lines.find((l) => l.stream === 'accounts')?.account_id;
  return lines.filter((l) => l.stream === stream && l.account_id === platform).map((l) => l.object as Fields);
};

/** A GET as JSON text parsed, at the SDK's API version (the truth's), without the SDK's decoding of decimals. */
async function get(path: string): Promise<Fields & { data: Fields[]; has_more: boolean }> {
  const response = await fetch(`${sim.url}${path}`, { headers: { Authorization: 'Bearer rk_test_simulator', 'Stripe-Version': STRIPE_API_VERSION } });
  expect(response.status).toBe(200);
  return (await response.json()) as Fields & { data: Fields[]; has_more: boolean };
}

async function listSubscriptions(expand: string): Promise<Fields[]> {
  const out: Fields[] = [];
  for (let after = ''; ; ) {
    const page = await get(`/v1/subscriptions?status=all&limit=100${expand}${after}`);
    out.push(...page.data);
    if (!page.has_more) return out;
    after = `&starting_after=${(page.data[page.data.length - 1] as Fields).id}`;
  }
}

describe("subscriptions' discounts", () => {
  it('are Discount objects in the truth, naming the coupon applied, from the start of the subscription; end only for repeating coupons', () => {
    const coupons = new Map(objectsOf('coupons').map((c) => [`${c.account}/${c.id}`, c]));
    const discounted = objectsOf('subscriptions').filter((s) => (s.discounts as unknown[]).length > 0);
    const kinds: Record<string, number> = {};
    for (const subscription of discounted) {
      const [discount, ...more] = subscription.discounts as Fields[];
      expect(more).toEqual([]);
      const couponId = (discount?.source as { coupon: string }).coupon;
      const coupon = coupons.get(`${subscription.account}/${couponId}`) as Fields;
      const kind = `${String(coupon.duration)} ${String(subscription.status)}`;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const end = coupon.duration === 'repeating' ? (subscription.start_date as number) + (coupon.duration_in_months as number) * 30 * DAY : null;
      expect(discount).toEqual({
        checkout_session: null,
        customer: subscription.customer,
        customer_account: null,
        end,
        id: `di_${subscription.id.slice(4, 28)}`,
        invoice: null,
        invoice_item: null,
        object: 'discount',
        promotion_code: null,
        start: subscription.start_date,
        subscription: subscription.id,
        subscription_item: null,
        source: { coupon: couponId, type: 'coupon' },
      });
    }
    // Active subscriptions with a forever coupon among them: the one kind that reduces MRR.
    expect(kinds).toEqual({
      'forever active': 4, 'forever canceled': 5,
      'once active': 13, 'once canceled': 2, 'once trialing': 1,
      'repeating active': 19, 'repeating canceled': 2, 'repeating incomplete_expired': 2,
    });
  });

  it('are ids in lists and on retrieve unless expanded, and the expanded ones are those of the truth', async () => {
    const expected = new Map(platformObjects('subscriptions').map((s) => [s.id, s]));
    const idsOnly = (s: Fields) => ({ ...s, discounts: (s.discounts as Fields[]).map((d) => d.id) });
    const plain = await listSubscriptions('');
    const expanded = await listSubscriptions('&expand[]=data.discounts');
    expect([plain.length, plain.filter((s) => (s.discounts as unknown[]).length > 0).length]).toEqual([expected.size, 23]);
    expect(plain).toEqual(plain.map((s) => idsOnly(expected.get(s.id) as Fields)));
    expect(expanded).toEqual(expanded.map((s) => expected.get(s.id)));
    const one = plain.find((s) => (s.discounts as unknown[]).length > 0) as Fields;
    expect(await get(`/v1/subscriptions/${one.id}`)).toEqual(one);
    expect(await get(`/v1/subscriptions/${one.id}?expand[]=discounts`)).toEqual(expected.get(one.id));
  });

  it('are ids in events, as Stripe renders them', () => {
    const events = lines.filter((l) => l.stream === 'events' && String(l.object.type).startsWith('customer.subscription.'));
    const discounts = events.flatMap((l) => ((l.object.data as { object: Fields }).object.discounts as unknown[]) ?? []);
    expect(discounts.length).toBeGreaterThan(0);
    expect(discounts.every((d) => typeof d === 'string' && d.startsWith('di_'))).toBe(true);
  });

  it("are the discounts the subscription's discounted invoices name", () => {
    const discountOf = new Map(platformObjects('subscriptions').map((s) => [s.id, (s.discounts as Fields[]).map((d) => d.id)]));
    const discountedInvoices = platformObjects('invoices').filter((i) => (i.total_discount_amounts as unknown[]).length > 0);
    expect(discountedInvoices.length).toBeGreaterThan(10);
    for (const invoice of discountedInvoices) expect(invoice.discounts).toEqual(discountOf.get(invoice.subscription as string));
  });

  it('hold their coupon expanded in `coupon` at an API version before 2025-03-31, as discounts did before `source`', async () => {
    const stripe = stripeFor(sim, 'rk_test_simulator', { apiVersion: '2024-06-20' as Stripe.LatestApiVersion });
    const subscription = platformObjects('subscriptions').find((s) => (s.discounts as unknown[]).length > 0) as Fields;
    const discount = (subscription.discounts as Fields[])[0] as Fields;
    const coupon = platformObjects('coupons').find((c) => c.id === (discount.source as { coupon: string }).coupon) as Fields;
    const old = (await stripe.subscriptions.retrieve(subscription.id, { expand: ['discounts'] })) as unknown as { discounts: Fields[] };
    const { source: _source, ...rest } = discount;
    expect(old.discounts).toEqual([{ ...rest, coupon }]);
  });

  it('cannot be expanded where a field holds no ids', async () => {
    await expect(stripeFor(sim).subscriptions.list({ expand: ['data.items'] })).rejects.toMatchObject({ statusCode: 400, message: 'This property cannot be expanded (data.items).' });
  });
});
