// MRR computed in TypeScript straight from Stripe objects (the simulator's truth, or objects a
// test writes), for the MRR marts' tests: Stripe's definition, the monthly history from invoice
// billing periods, and the movements per customer. Shares nothing with the SQL.
import { monthOf, type StripeFields } from './world.js';

/** A Stripe object of an account, as the truth gives it. */
export interface AccountObject {
  readonly stream: string;
  readonly account: string;
  readonly object: StripeFields;
}

type Json = Record<string, unknown>;

const COUNTED_STATUSES = new Set(['active', 'past_due']);

function field<T>(object: unknown, path: string): T | undefined {
  let value: unknown = object;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Json)[key];
  }
  return (value ?? undefined) as T | undefined;
}

function listData(list: unknown): Json[] {
  const data = field<unknown[]>(list, 'data');
  return Array.isArray(data) ? (data as Json[]) : [];
}

/** Months per billing period: [numerator, denominator] of Stripe's normalization. */
export function monthsPerPeriod(interval: string | undefined, count: number | undefined): [bigint, bigint] {
  const n = BigInt(count ?? 1);
  switch (interval) {
    case 'month':
      return [1n, n];
    case 'year':
      return [1n, 12n * n];
    case 'week':
      return [52n, 12n * n];
    case 'day':
      return [365n, 12n * n];
    default:
      return [1n, 12n * n];
  }
}

/** n / d rounded to the nearest integer, halves up (n, d ≥ 0). */
function roundHalfUp(n: bigint, d: bigint): number {
  return Number((2n * n + d) / (2n * d));
}

/** What a price bills each period for a quantity, before discounts and tax: 0 if metered or free. */
export function periodAmount(price: Json | undefined, quantity: number | undefined): number {
  const unit = field<number>(price, 'unit_amount');
  if (field<string>(price, 'recurring.usage_type') !== 'licensed' || unit === undefined || unit <= 0) return 0;
  return unit * (quantity ?? 1);
}

/** The share kept/whole of an amount that a forever coupon leaves; `base` is what it is taken from. */
interface KeptShare {
  readonly kept: bigint;
  readonly whole: bigint;
  /** Unix seconds the discount started, if known. */
  readonly start: number | undefined;
}

function couponShare(coupon: Json, base: number, start: number | undefined): KeptShare {
  const percent = field<number>(coupon, 'percent_off');
  if (percent !== undefined) return { kept: 10000n - BigInt(Math.round(percent * 100)), whole: 10000n, start };
  const off = field<number>(coupon, 'amount_off') ?? 0;
  return { kept: BigInt(Math.max(base - off, 0)), whole: BigInt(base > 0 ? base : 1), start };
}

/** The MRR of a period amount, after the largest reduction among `shares`. */
function monthly(amount: number, interval: string | undefined, count: number | undefined, shares: readonly KeptShare[]): number {
  const [num, den] = monthsPerPeriod(interval, count);
  const candidates = [{ kept: 1n, whole: 1n }, ...shares].map((s) => roundHalfUp(BigInt(amount) * s.kept * num, s.whole * den));
  return Math.min(...candidates);
}

/** An account's objects by stream and id. */
class AccountBook {
  readonly byStream = new Map<string, Map<string, StripeFields>>();
  add(stream: string, object: StripeFields): void {
    let objects = this.byStream.get(stream);
    if (!objects) this.byStream.set(stream, (objects = new Map()));
    objects.set(object.id, object);
  }
  all(stream: string): StripeFields[] {
    return [...(this.byStream.get(stream)?.values() ?? [])];
  }
  get(stream: string, id: string | undefined): StripeFields | undefined {
    return id === undefined ? undefined : this.byStream.get(stream)?.get(id);
  }
}

function books(objects: readonly AccountObject[]): Map<string, AccountBook> {
  const out = new Map<string, AccountBook>();
  for (const { stream, account, object } of objects) {
    let book = out.get(account);
    if (!book) out.set(account, (book = new AccountBook()));
    book.add(stream, object);
  }
  return out;
}

/** A forever coupon that reduces an item, through one of its discounts. */
interface ForeverDiscount {
  readonly discountId: string;
  readonly couponId: string;
  readonly share: KeptShare;
}

/** The forever coupons that reduce an item: its own discounts' and its subscription's (expanded ones only). */
function foreverDiscountsOf(book: AccountBook, subscription: StripeFields, item: Json): ForeverDiscount[] {
  const items = listData(subscription.items);
  const subscriptionAmount = items.reduce((sum, i) => sum + periodAmount(field(i, 'price'), field(i, 'quantity')), 0);
  const itemAmount = periodAmount(field(item, 'price'), field(item, 'quantity'));
  const found: ForeverDiscount[] = [];
  const consider = (discounts: unknown, base: number) => {
    for (const discount of Array.isArray(discounts) ? discounts : []) {
      if (typeof discount !== 'object' || discount === null) continue; // an id alone names no coupon
      const source = field<unknown>(discount, 'source.coupon') ?? field<unknown>(discount, 'coupon');
      const couponId = typeof source === 'string' ? source : field<string>(source, 'id');
      const coupon = book.get('coupons', couponId);
      if (coupon?.duration !== 'forever') continue;
      found.push({ discountId: String(field(discount, 'id')), couponId: coupon.id, share: couponShare(coupon, base, field<number>(discount, 'start')) });
    }
  };
  consider(subscription.discounts, subscriptionAmount);
  consider(item.discounts, itemAmount);
  return found;
}

function foreverShares(book: AccountBook, subscription: StripeFields, item: Json): KeptShare[] {
  return foreverDiscountsOf(book, subscription, item).map((d) => d.share);
}

export interface ItemForeverDiscount {
  account_id: string;
  subscription_id: string;
  subscription_item_id: string;
  /** The subscription's status: only active and past_due ones count toward MRR now. */
  status: string;
  discount_id: string;
  coupon_id: string;
}

/** int_mrr__subscription_item_forever_discounts' keys: each item of each subscription and forever coupon that reduces it. */
export function itemForeverDiscounts(objects: readonly AccountObject[]): ItemForeverDiscount[] {
  const out: ItemForeverDiscount[] = [];
  for (const [account, book] of books(objects)) {
    for (const subscription of book.all('subscriptions')) {
      for (const item of listData(subscription.items)) {
        for (const { discountId, couponId } of foreverDiscountsOf(book, subscription, item)) {
          out.push({ account_id: account, subscription_id: subscription.id, subscription_item_id: String(item.id), status: String(subscription.status), discount_id: discountId, coupon_id: couponId });
        }
      }
    }
  }
  return out;
}

export interface CurrentItemMrr {
  account_id: string;
  subscription_id: string;
  subscription_item_id: string;
  customer_id: string;
  currency: string;
  status: string;
  price_id: string;
  quantity: number;
  unit_amount: number | null;
  recurring_interval: string;
  recurring_interval_count: number;
  recurring_usage_type: string;
  period_amount: number;
  mrr: number;
}

/** int_mrr__subscription_items_current: each item of an active or past_due subscription, and its MRR. */
export function currentItemMrr(objects: readonly AccountObject[]): CurrentItemMrr[] {
  const out: CurrentItemMrr[] = [];
  for (const [account, book] of books(objects)) {
    for (const subscription of book.all('subscriptions')) {
      if (!COUNTED_STATUSES.has(String(subscription.status))) continue;
      for (const item of listData(subscription.items)) {
        const price = field<Json>(item, 'price');
        const amount = periodAmount(price, field(item, 'quantity'));
        const interval = field<string>(price, 'recurring.interval') as string;
        const count = field<number>(price, 'recurring.interval_count') as number;
        out.push({
          account_id: account,
          subscription_id: subscription.id,
          subscription_item_id: String(item.id),
          customer_id: String(subscription.customer),
          currency: String(subscription.currency),
          status: String(subscription.status),
          price_id: String(field(price, 'id')),
          quantity: field<number>(item, 'quantity') as number,
          unit_amount: field<number>(price, 'unit_amount') ?? null,
          recurring_interval: interval,
          recurring_interval_count: count,
          recurring_usage_type: String(field(price, 'recurring.usage_type')),
          period_amount: amount,
          mrr: monthly(amount, interval, count, foreverShares(book, subscription, item)),
        });
      }
    }
  }
  return out;
}

export interface ItemMonthMrr {
  month: string;
  account_id: string;
  is_platform: boolean;
  subscription_id: string;
  subscription_item_id: string;
  customer_id: string;
  currency: string;
  /** Unix seconds of the instant that stands for the month. */
  evaluated_at: number;
  invoice_id: string | null;
  price_id: string | null;
  quantity: number | null;
  period_amount: number;
  mrr: number;
}

/** The first second of the month after `month` (YYYY-MM-01), Unix seconds. */
function nextMonthStart(month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Date.UTC(y, m, 1) / 1000;
}

function monthsFromTo(first: string, last: string): string[] {
  const out: string[] = [];
  for (let month = first; month <= last; month = monthOf(nextMonthStart(month))) out.push(month);
  return out;
}

/** A billing period of an item: one non-proration line of a subscription invoice. */
interface BilledPeriod {
  readonly invoice: StripeFields;
  readonly line: Json;
  readonly item: string;
  readonly start: number;
  readonly end: number;
}

function billedPeriods(book: AccountBook): Map<string, BilledPeriod[]> {
  const byItem = new Map<string, BilledPeriod[]>();
  for (const invoice of book.all('invoices')) {
    if (!['open', 'paid', 'uncollectible'].includes(String(invoice.status))) continue;
    for (const line of listData(invoice.lines)) {
      const details = field<Json>(line, 'parent.subscription_item_details');
      const item = field<string>(details, 'subscription_item');
      const price = field<string>(line, 'pricing.price_details.price');
      if (item === undefined || field<boolean>(details, 'proration') === true || !book.get('prices', price)) continue;
      const period = { invoice, line, item, start: field<number>(line, 'period.start') as number, end: field<number>(line, 'period.end') as number };
      byItem.set(item, [...(byItem.get(item) ?? []), period]);
    }
  }
  return byItem;
}

/** Whether a subscription counts at `at` by its own dates: started, not ended, not in a trial. */
function liveAt(subscription: StripeFields, at: number): boolean {
  const start = subscription.start_date as number;
  const ended = subscription.ended_at as number | null;
  const trialStart = subscription.trial_start as number | null;
  const trialEnd = subscription.trial_end as number | null;
  if (start > at || (ended !== null && ended <= at)) return false;
  return !(trialStart !== null && trialEnd !== null && trialStart <= at && at < trialEnd);
}

/** Whether a billed period's invoice lets it count at `at` (see subscription_mrr_monthly's YAML). */
function invoiceCountsAt(period: BilledPeriod, subscription: StripeFields, at: number): boolean {
  const invoice = period.invoice;
  const transitions = invoice.status_transitions as Json;
  const paidAt = transitions.paid_at as number | null;
  const uncollectibleAt = transitions.marked_uncollectible_at as number | null;
  if (invoice.billing_reason === 'subscription_create' && (paidAt === null || paidAt > at)) return false;
  if (invoice.status === 'open' && ['unpaid', 'canceled'].includes(String(subscription.status))) return false;
  return !(invoice.status === 'uncollectible' && uncollectibleAt !== null && uncollectibleAt <= at);
}

/**
 * subscription_mrr_monthly: every item of every subscription, in each month from the
 * subscription's start to its end (or the account's as-of month), its MRR at the month's last
 * second (or at the as-of instant).
 */
export function itemMonthMrr(objects: readonly AccountObject[], asOf: ReadonlyMap<string, number>, platform: string): ItemMonthMrr[] {
  const out: ItemMonthMrr[] = [];
  for (const [account, book] of books(objects)) {
    const accountAsOf = asOf.get(account);
    if (accountAsOf === undefined) continue;
    const periods = billedPeriods(book);
    const itemsOf = new Map<string, Set<string>>();
    for (const subscription of book.all('subscriptions')) itemsOf.set(subscription.id, new Set(listData(subscription.items).map((i) => String(i.id))));
    for (const list of periods.values()) {
      for (const p of list) {
        const sub = String(field(p.line, 'parent.subscription_item_details.subscription'));
        itemsOf.get(sub)?.add(p.item);
      }
    }
    for (const subscription of book.all('subscriptions')) {
      if (typeof subscription.start_date !== 'number') continue;
      const end = Math.min((subscription.ended_at as number | null) ?? accountAsOf, accountAsOf);
      const months = monthsFromTo(monthOf(subscription.start_date as number), monthOf(end));
      const currentItems = new Map(listData(subscription.items).map((i) => [String(i.id), i]));
      for (const itemId of itemsOf.get(subscription.id) ?? []) {
        for (const month of months) {
          const at = Math.min(nextMonthStart(month) - 1, accountAsOf);
          const holding = (periods.get(itemId) ?? [])
            .filter((p) => p.start <= at && at < p.end && invoiceCountsAt(p, subscription, at))
            .sort((a, b) => b.start - a.start || (b.invoice.created as number) - (a.invoice.created as number) || String(b.line.id).localeCompare(String(a.line.id)));
          const period = liveAt(subscription, at) ? holding[0] : undefined;
          const row: ItemMonthMrr = {
            month,
            account_id: account,
            is_platform: account === platform,
            subscription_id: subscription.id,
            subscription_item_id: itemId,
            customer_id: String(subscription.customer),
            currency: String(subscription.currency),
            evaluated_at: at,
            invoice_id: null,
            price_id: null,
            quantity: null,
            period_amount: 0,
            mrr: 0,
          };
          if (period) {
            const priceId = field<string>(period.line, 'pricing.price_details.price') as string;
            const price = book.get('prices', priceId);
            const quantity = field<number>(period.line, 'quantity') as number;
            const amount = periodAmount(price, quantity);
            const item = currentItems.get(itemId);
            const shares = item ? foreverShares(book, subscription, item).filter((s) => s.start === undefined || s.start <= at) : [];
            Object.assign(row, {
              invoice_id: period.invoice.id,
              price_id: priceId,
              quantity,
              period_amount: amount,
              mrr: monthly(amount, field(price, 'recurring.interval'), field(price, 'recurring.interval_count'), shares),
            });
          }
          out.push(row);
        }
      }
    }
  }
  return out;
}

export interface MrrMonth {
  month: string;
  account_id: string;
  is_platform: boolean;
  currency: string;
  mrr: number;
  previous_mrr: number;
  net_new_mrr: number;
  customers: number;
  new_customers: number;
  new_mrr: number;
  expansion_customers: number;
  expansion_mrr: number;
  contraction_customers: number;
  contraction_mrr: number;
  churned_customers: number;
  churned_mrr: number;
  reactivation_customers: number;
  reactivation_mrr: number;
}

type Movement = 'new' | 'expansion' | 'contraction' | 'churned' | 'reactivation';

/**
 * mrr_monthly: per account and currency, each month from its first subscription's to the
 * account's as-of month, the MRR and its movements, each customer's MRR compared with its MRR
 * the month before.
 */
export function mrrMonths(items: readonly ItemMonthMrr[], asOf: ReadonlyMap<string, number>): MrrMonth[] {
  // account|currency → customer → month → MRR
  const byCustomer = new Map<string, Map<string, Map<string, number>>>();
  const platformOf = new Map<string, boolean>();
  for (const row of items) {
    const key = `${row.account_id}|${row.currency}`;
    platformOf.set(row.account_id, row.is_platform);
    let customers = byCustomer.get(key);
    if (!customers) byCustomer.set(key, (customers = new Map()));
    let months = customers.get(row.customer_id);
    if (!months) customers.set(row.customer_id, (months = new Map()));
    months.set(row.month, (months.get(row.month) ?? 0) + row.mrr);
  }
  const out: MrrMonth[] = [];
  for (const [key, customers] of byCustomer) {
    const [account, currency] = key.split('|') as [string, string];
    const allMonths = [...customers.values()].flatMap((m) => [...m.keys()]).sort();
    const months = monthsFromTo(allMonths[0] as string, monthOf(asOf.get(account) as number));
    let previousMonth: string | undefined;
    for (const month of months) {
      const row: MrrMonth = {
        month, account_id: account, is_platform: platformOf.get(account) as boolean, currency,
        mrr: 0, previous_mrr: 0, net_new_mrr: 0, customers: 0,
        new_customers: 0, new_mrr: 0, expansion_customers: 0, expansion_mrr: 0, contraction_customers: 0, contraction_mrr: 0,
        churned_customers: 0, churned_mrr: 0, reactivation_customers: 0, reactivation_mrr: 0,
      };
      for (const history of customers.values()) {
        const now = history.get(month) ?? 0;
        const before = previousMonth === undefined ? 0 : (history.get(previousMonth) ?? 0);
        const hadMrr = [...history].some(([m, mrr]) => m < month && mrr > 0);
        row.mrr += now;
        row.previous_mrr += before;
        if (now > 0) row.customers++;
        const add = (movement: Movement, amount: number) => {
          row[`${movement}_customers`]++;
          row[`${movement}_mrr`] += amount;
        };
        if (before === 0 && now > 0) add(hadMrr ? 'reactivation' : 'new', now);
        else if (before > 0 && now === 0) add('churned', before);
        else if (before > 0 && now > before) add('expansion', now - before);
        else if (before > 0 && now < before) add('contraction', before - now);
      }
      row.net_new_mrr = row.mrr - row.previous_mrr;
      out.push(row);
      previousMonth = month;
    }
  }
  return out;
}
