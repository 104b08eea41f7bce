// A small seeded Stripe account for the MRR rules the marts' world lacks: weekly, daily and
// quarterly prices, metered and free prices, forever coupons (percent and amount off, in both
// shapes of an expanded discount) beside a once coupon, a plan and quantity change at renewal,
// a customer who churns and comes back, unpaid and uncollectible invoices, a trial and an
// incomplete start across a month's end, and a second currency on the platform. The objects
// are written as the loader writes raw rows, and given to the oracle (truth-mrr.ts) as they are.
import type { AccountObject } from './truth-mrr.js';

export const SEED_PLATFORM = 'acct_seedPlatform00001';
export const SEED_CONNECTED = 'acct_seedConnected0001';

const at = (iso: string) => Date.parse(iso) / 1000;
const DAY = 86_400;

/** When both accounts were last synced: the platform listed the connected account then. */
export const SEED_AS_OF = at('2026-04-15T00:00:00Z');
/** Every other object was last observed a little earlier. */
const OBSERVED = SEED_AS_OF - 3600;

type Fields = Record<string, unknown>;

interface ItemSpec {
  readonly id: string;
  readonly price: string;
  readonly quantity?: number;
  readonly discounts?: readonly unknown[];
}

interface PeriodSpec {
  readonly item: string;
  readonly price: string;
  readonly quantity?: number;
}

class SeedBook {
  readonly objects: AccountObject[] = [];
  private readonly prices = new Map<string, Fields>();
  private invoiceCount = 0;

  add(stream: string, account: string, object: Fields & { id: string }): void {
    this.objects.push({ stream, account, object: { livemode: false, created: at('2026-01-01T00:00:00Z'), ...object } });
  }

  price(account: string, id: string, unitAmount: number, interval: string, intervalCount = 1, usageType = 'licensed'): void {
    const price = { id, object: 'price', currency: account === SEED_PLATFORM ? 'jpy' : 'usd', active: true, unit_amount: unitAmount, type: 'recurring', billing_scheme: 'per_unit', recurring: { interval, interval_count: intervalCount, usage_type: usageType } };
    this.prices.set(id, price);
    this.add('prices', account, price);
  }

  coupon(account: string, id: string, duration: string, off: { percent_off?: number; amount_off?: number }): void {
    this.add('coupons', account, { id, object: 'coupon', duration, percent_off: off.percent_off ?? null, amount_off: off.amount_off ?? null, currency: off.amount_off ? 'usd' : null, valid: true });
  }

  subscription(
    account: string,
    spec: { id: string; customer: string; currency: string; status: string; start: number; ended?: number; trial?: [number, number]; items: readonly ItemSpec[]; discounts?: readonly unknown[] },
  ): void {
    this.add('subscriptions', account, {
      id: spec.id,
      object: 'subscription',
      created: spec.start,
      customer: spec.customer,
      currency: spec.currency,
      status: spec.status,
      start_date: spec.start,
      ended_at: spec.ended ?? null,
      canceled_at: spec.ended ?? null,
      trial_start: spec.trial?.[0] ?? null,
      trial_end: spec.trial?.[1] ?? null,
      discounts: spec.discounts ?? [],
      items: {
        object: 'list',
        data: spec.items.map((item) => ({ id: item.id, object: 'subscription_item', quantity: item.quantity ?? 1, price: this.prices.get(item.price), discounts: item.discounts ?? [] })),
      },
    });
  }

  /** One invoice for one billing period of a subscription's items. */
  invoice(
    account: string,
    spec: { subscription: string; customer: string; currency: string; reason: string; start: number; end: number; status?: string; paidAt?: number | null; uncollectibleAt?: number; lines: readonly PeriodSpec[] },
  ): void {
    const id = `in_seed${String(++this.invoiceCount).padStart(5, '0')}`;
    const status = spec.status ?? 'paid';
    this.add('invoices', account, {
      id,
      object: 'invoice',
      created: spec.start,
      customer: spec.customer,
      currency: spec.currency,
      status,
      billing_reason: spec.reason,
      period_start: spec.start,
      period_end: spec.end,
      parent: { type: 'subscription_details', subscription_details: { subscription: spec.subscription } },
      status_transitions: { finalized_at: spec.start, paid_at: status === 'paid' ? (spec.paidAt ?? spec.start) : null, marked_uncollectible_at: spec.uncollectibleAt ?? null, voided_at: null },
      lines: {
        object: 'list',
        has_more: false,
        data: spec.lines.map((line, i) => ({
          id: `il_${id.slice(3)}_${i}`,
          object: 'line_item',
          quantity: line.quantity ?? 1,
          amount: ((this.prices.get(line.price)?.unit_amount as number) ?? 0) * (line.quantity ?? 1),
          period: { start: spec.start, end: spec.end },
          parent: { type: 'subscription_item_details', subscription_item_details: { subscription: spec.subscription, subscription_item: line.item, proration: false } },
          pricing: { type: 'price_details', price_details: { price: line.price } },
        })),
      },
    });
  }

  /** Paid invoices for consecutive periods from `start` while they begin by `until`; `next` gives a period's end. */
  periods(account: string, spec: { subscription: string; customer: string; currency: string; start: number; until: number; next: (start: number) => number; lines: readonly PeriodSpec[] }): void {
    for (let start = spec.start, first = true; start <= spec.until; start = spec.next(start), first = false) {
      this.invoice(account, { ...spec, reason: first ? 'subscription_create' : 'subscription_cycle', start, end: spec.next(start) });
    }
  }
}

const addMonth = (seconds: number) => {
  const d = new Date(seconds * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
};
const addDays = (days: number) => (seconds: number) => seconds + days * DAY;

/** The seeded accounts' objects, by the streams the loader writes them to. */
export function mrrSeed(): AccountObject[] {
  const book = new SeedBook();
  const c = SEED_CONNECTED;
  const usd = { currency: 'usd' };
  book.add('accounts', SEED_PLATFORM, { id: c, object: 'account', type: 'express', country: 'US', default_currency: 'usd' });

  book.price(c, 'price_week', 1000, 'week');
  book.price(c, 'price_day', 100, 'day');
  book.price(c, 'price_quarter', 9000, 'month', 3);
  book.price(c, 'price_base', 2000, 'month');
  book.price(c, 'price_metered', 10, 'month', 1, 'metered');
  book.price(c, 'price_free', 0, 'month');
  book.price(c, 'price_5000', 5000, 'month');
  book.price(c, 'price_3000', 3000, 'month');
  book.price(c, 'price_1000', 1000, 'month');
  book.price(c, 'price_4000', 4000, 'month');
  book.price(c, 'price_2500', 2500, 'month');
  book.price(c, 'price_1500', 1500, 'month');
  book.price(c, 'price_3500', 3500, 'month');
  book.coupon(c, 'FOREVER20', 'forever', { percent_off: 20 });
  book.coupon(c, 'FOREVEROFF', 'forever', { amount_off: 1500 });
  book.coupon(c, 'ONCE50', 'once', { percent_off: 50 });
  book.coupon(c, 'REPEAT30', 'repeating', { percent_off: 30 });

  const simple = (id: string, customer: string, price: string, start: number, next: (s: number) => number, extra: { discounts?: readonly unknown[] } = {}) => {
    book.subscription(c, { id, customer, ...usd, status: 'active', start, items: [{ id: `si_${id.slice(4)}`, price }], ...extra });
    book.periods(c, { subscription: id, customer, ...usd, start, until: SEED_AS_OF, next, lines: [{ item: `si_${id.slice(4)}`, price }] });
  };
  // Weekly (× 52/12), daily (× 365/12), quarterly (÷ 3).
  simple('sub_week', 'cus_week', 'price_week', at('2026-01-05T09:00:00Z'), addDays(7));
  simple('sub_day', 'cus_day', 'price_day', at('2026-02-01T00:00:00Z'), addDays(1));
  simple('sub_quarter', 'cus_quarter', 'price_quarter', at('2026-01-20T00:00:00Z'), (s) => addMonth(addMonth(addMonth(s))));
  // A free price, and a metered item beside a licensed one: 0.
  simple('sub_free', 'cus_free', 'price_free', at('2026-01-12T00:00:00Z'), addMonth);
  book.subscription(c, { id: 'sub_metered', customer: 'cus_metered', ...usd, status: 'active', start: at('2026-01-12T00:00:00Z'), items: [{ id: 'si_metered_base', price: 'price_base' }, { id: 'si_metered_usage', price: 'price_metered' }] });
  book.periods(c, { subscription: 'sub_metered', customer: 'cus_metered', ...usd, start: at('2026-01-12T00:00:00Z'), until: SEED_AS_OF, next: addMonth, lines: [{ item: 'si_metered_base', price: 'price_base' }, { item: 'si_metered_usage', price: 'price_metered' }] });
  // Forever coupons reduce MRR, from their discount's start; once and repeating ones do not.
  simple('sub_pct', 'cus_pct', 'price_5000', at('2026-01-10T00:00:00Z'), addMonth, {
    discounts: [{ id: 'di_pct', object: 'discount', start: at('2026-01-10T00:00:00Z'), source: { type: 'coupon', coupon: 'FOREVER20' } }],
  });
  book.subscription(c, {
    id: 'sub_off', customer: 'cus_off', ...usd, status: 'active', start: at('2026-01-10T00:00:00Z'),
    items: [{ id: 'si_off_a', price: 'price_3000' }, { id: 'si_off_b', price: 'price_1000' }],
    discounts: [{ id: 'di_off', object: 'discount', start: at('2026-02-15T00:00:00Z'), coupon: { id: 'FOREVEROFF', object: 'coupon', duration: 'forever', amount_off: 1500 } }],
  });
  book.periods(c, { subscription: 'sub_off', customer: 'cus_off', ...usd, start: at('2026-01-10T00:00:00Z'), until: SEED_AS_OF, next: addMonth, lines: [{ item: 'si_off_a', price: 'price_3000' }, { item: 'si_off_b', price: 'price_1000' }] });
  simple('sub_once', 'cus_once', 'price_5000', at('2026-01-10T00:00:00Z'), addMonth, {
    discounts: [
      { id: 'di_once', object: 'discount', start: at('2026-01-10T00:00:00Z'), source: { type: 'coupon', coupon: 'ONCE50' } },
      { id: 'di_repeat', object: 'discount', start: at('2026-01-10T00:00:00Z'), source: { type: 'coupon', coupon: 'REPEAT30' } },
      'di_id_only',
    ],
  });
  // A plan change (2000 → 5000, quantity 2) at the March renewal, then quantity 1 in April.
  book.subscription(c, { id: 'sub_change', customer: 'cus_change', ...usd, status: 'active', start: at('2026-01-10T00:00:00Z'), items: [{ id: 'si_change', price: 'price_5000', quantity: 1 }] });
  const change = (start: string, end: string, price: string, quantity: number, reason: string) =>
    book.invoice(c, { subscription: 'sub_change', customer: 'cus_change', ...usd, reason, start: at(start), end: at(end), lines: [{ item: 'si_change', price, quantity }] });
  change('2026-01-10T00:00:00Z', '2026-02-10T00:00:00Z', 'price_base', 1, 'subscription_create');
  change('2026-02-10T00:00:00Z', '2026-03-10T00:00:00Z', 'price_base', 1, 'subscription_cycle');
  change('2026-03-10T00:00:00Z', '2026-04-10T00:00:00Z', 'price_5000', 2, 'subscription_cycle');
  change('2026-04-10T00:00:00Z', '2026-05-10T00:00:00Z', 'price_5000', 1, 'subscription_cycle');
  // Churns in February (canceled), comes back in March with a new subscription.
  book.subscription(c, { id: 'sub_react1', customer: 'cus_react', ...usd, status: 'canceled', start: at('2026-01-05T00:00:00Z'), ended: at('2026-02-10T00:00:00Z'), items: [{ id: 'si_react1', price: 'price_3000' }] });
  book.periods(c, { subscription: 'sub_react1', customer: 'cus_react', ...usd, start: at('2026-01-05T00:00:00Z'), until: at('2026-02-10T00:00:00Z'), next: addMonth, lines: [{ item: 'si_react1', price: 'price_3000' }] });
  simple('sub_react2', 'cus_react', 'price_3000', at('2026-03-03T00:00:00Z'), addMonth);
  // Unpaid: the invoice left open after dunning counts nothing.
  book.subscription(c, { id: 'sub_unpaid', customer: 'cus_unpaid', ...usd, status: 'unpaid', start: at('2026-01-15T00:00:00Z'), items: [{ id: 'si_unpaid', price: 'price_4000' }] });
  book.periods(c, { subscription: 'sub_unpaid', customer: 'cus_unpaid', ...usd, start: at('2026-01-15T00:00:00Z'), until: at('2026-02-15T00:00:00Z'), next: addMonth, lines: [{ item: 'si_unpaid', price: 'price_4000' }] });
  book.invoice(c, { subscription: 'sub_unpaid', customer: 'cus_unpaid', ...usd, reason: 'subscription_cycle', status: 'open', start: at('2026-03-15T00:00:00Z'), end: at('2026-04-15T00:00:00Z'), lines: [{ item: 'si_unpaid', price: 'price_4000' }] });
  // Uncollectible: counts until it was so marked (the subscription ended then).
  book.subscription(c, { id: 'sub_uncollectible', customer: 'cus_uncollectible', ...usd, status: 'canceled', start: at('2026-01-08T00:00:00Z'), ended: at('2026-02-20T00:00:00Z'), items: [{ id: 'si_uncollectible', price: 'price_base' }] });
  book.invoice(c, { subscription: 'sub_uncollectible', customer: 'cus_uncollectible', ...usd, reason: 'subscription_create', start: at('2026-01-08T00:00:00Z'), end: at('2026-02-08T00:00:00Z'), lines: [{ item: 'si_uncollectible', price: 'price_base' }] });
  book.invoice(c, { subscription: 'sub_uncollectible', customer: 'cus_uncollectible', ...usd, reason: 'subscription_cycle', status: 'uncollectible', uncollectibleAt: at('2026-02-20T00:00:00Z'), start: at('2026-02-08T00:00:00Z'), end: at('2026-03-08T00:00:00Z'), lines: [{ item: 'si_uncollectible', price: 'price_base' }] });
  // Past due now: the open invoice counts.
  book.subscription(c, { id: 'sub_past_due', customer: 'cus_past_due', ...usd, status: 'past_due', start: at('2026-03-05T00:00:00Z'), items: [{ id: 'si_past_due', price: 'price_3500' }] });
  book.invoice(c, { subscription: 'sub_past_due', customer: 'cus_past_due', ...usd, reason: 'subscription_create', start: at('2026-03-05T00:00:00Z'), end: at('2026-04-05T00:00:00Z'), lines: [{ item: 'si_past_due', price: 'price_3500' }] });
  book.invoice(c, { subscription: 'sub_past_due', customer: 'cus_past_due', ...usd, reason: 'subscription_cycle', status: 'open', start: at('2026-04-05T00:00:00Z'), end: at('2026-05-05T00:00:00Z'), lines: [{ item: 'si_past_due', price: 'price_3500' }] });
  // A trial over January's end, then paid periods.
  book.subscription(c, { id: 'sub_trial', customer: 'cus_trial', ...usd, status: 'active', start: at('2026-01-20T00:00:00Z'), trial: [at('2026-01-20T00:00:00Z'), at('2026-02-03T00:00:00Z')], items: [{ id: 'si_trial', price: 'price_2500' }] });
  book.periods(c, { subscription: 'sub_trial', customer: 'cus_trial', ...usd, start: at('2026-02-03T00:00:00Z'), until: SEED_AS_OF, next: addMonth, lines: [{ item: 'si_trial', price: 'price_2500' }] });
  // Incomplete over January's end: the first invoice was paid on February 1.
  book.subscription(c, { id: 'sub_incomplete', customer: 'cus_incomplete', ...usd, status: 'active', start: at('2026-01-31T23:00:00Z'), items: [{ id: 'si_incomplete', price: 'price_1500' }] });
  book.invoice(c, { subscription: 'sub_incomplete', customer: 'cus_incomplete', ...usd, reason: 'subscription_create', start: at('2026-01-31T23:00:00Z'), end: at('2026-02-28T23:00:00Z'), paidAt: at('2026-02-01T00:00:10Z'), lines: [{ item: 'si_incomplete', price: 'price_1500' }] });
  book.periods(c, { subscription: 'sub_incomplete', customer: 'cus_incomplete', ...usd, start: at('2026-02-28T23:00:00Z'), until: SEED_AS_OF, next: addMonth, lines: [{ item: 'si_incomplete', price: 'price_1500' }] });

  // The platform's own subscription, yearly, in yen.
  book.price(SEED_PLATFORM, 'price_jpy_year', 12000, 'year');
  book.subscription(SEED_PLATFORM, { id: 'sub_jpy', customer: 'cus_jpy', currency: 'jpy', status: 'active', start: at('2026-02-02T00:00:00Z'), items: [{ id: 'si_jpy', price: 'price_jpy_year' }] });
  book.invoice(SEED_PLATFORM, { subscription: 'sub_jpy', customer: 'cus_jpy', currency: 'jpy', reason: 'subscription_create', start: at('2026-02-02T00:00:00Z'), end: at('2027-02-02T00:00:00Z'), lines: [{ item: 'si_jpy', price: 'price_jpy_year' }] });
  return book.objects;
}

/** The seeded objects as the loader's records: Stripe's fields, the account, when observed. */
export function seedRecords(objects: readonly AccountObject[]): [string, Record<string, unknown>][] {
  return objects.map(({ stream, account, object }) => [stream, { ...object, account_id: account, observed_at: stream === 'accounts' ? SEED_AS_OF : OBSERVED }]);
}
