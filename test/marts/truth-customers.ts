// The figures of the customers and account_summary marts, computed in TypeScript straight from
// the simulator's truth: no SQL, no reading of the warehouse. What the warehouse holds at a stage
// follows from the truth and from what the README says a load keeps (`warehouseTruth`).
import type { TruthLine } from '../simulator-spec/helpers.js';
import { ACTIVITY_MEASURES, type ActivityDay } from './truth-activity.js';
import type { MartsWorld } from './world.js';

type Key = string;
const keyOf = (account: string, id: string): Key => `${account} ${id}`;

/** A truth line's field, typed at the point of use. */
function field<T>(line: TruthLine, name: string): T {
  return line.object[name] as T;
}

const isDeletedCustomer = (line: TruthLine): boolean => line.stream === 'customers' && line.deleted;

/** The truth as a first load (a backfill) holds it: Stripe lists no deleted customer, so one deleted before it is never seen. */
export function heldByFirstLoad(lines: readonly TruthLine[]): TruthLine[] {
  return lines.filter((line) => !isDeletedCustomer(line));
}

/**
 * The truth as the warehouse of a stage holds it. The first load is a backfill
 * (`heldByFirstLoad`). The second load reads changes from events, so a customer deleted since is
 * held, marked deleted. A connected account that disconnected keeps its rows as last read
 * (README, "a connected account … that is no longer connected"): the truth leaves its objects
 * out, so they are the first stage's.
 */
export function warehouseTruth(world: MartsWorld, stage: 'first' | 'second'): TruthLine[] {
  const first = world.truthAt('first');
  const firstHeld = heldByFirstLoad(first);
  if (stage === 'first') return firstHeld;
  const deletedBefore = new Set(first.filter(isDeletedCustomer).map((line) => keyOf(line.account_id, line.id)));
  const second = world.truthAt('second').filter((line) => !(isDeletedCustomer(line) && deletedBefore.has(keyOf(line.account_id, line.id))));
  return [...second, ...firstHeld.filter((line) => line.account_id === world.disconnected)];
}

/** A UTC instant as the warehouse client gives a TIMESTAMPTZ. */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

export interface CustomerRow {
  account_id: string;
  is_platform: boolean;
  customer_id: string;
  currency: string | null;
  customer_created_at: string | null;
  email: string | null;
  name: string | null;
  is_deleted: boolean | null;
  succeeded_charges: number;
  sales_amount: number;
  refunds: number;
  refunded_amount: number;
  fees: number;
  net: number;
  first_payment_at: string | null;
  last_payment_at: string | null;
  failed_charges: number;
  active_subscriptions: number;
  mrr: number;
}

/** The figures of one customer in one currency, before they become a row. */
interface Figures {
  succeeded: number;
  sales: number;
  failed: number;
  refunds: number;
  refunded: number;
  fees: number;
  net: number;
  firstPayment: number | null;
  lastPayment: number | null;
  activeSubscriptions: number;
  mrr: number;
}

const noFigures = (): Figures => ({ succeeded: 0, sales: 0, failed: 0, refunds: 0, refunded: 0, fees: 0, net: 0, firstPayment: null, lastPayment: null, activeSubscriptions: 0, mrr: 0 });

/** MRR statuses: a subscription is active when it counts toward MRR. */
const ACTIVE_STATUSES = new Set(['active', 'past_due']);

/** The customers mart at a stage, from the lines `warehouseTruth` gives and the items' MRR the MRR oracle computes from them. */
export function customersFromTruth(lines: readonly TruthLine[], platform: string, items: readonly ItemMrr[]): CustomerRow[] {
  const records = new Map<Key, TruthLine>();
  // Per customer: its figures by currency (a Map keeps the currencies a customer has).
  const byCustomer = new Map<Key, { account: string; customer: string; currencies: Map<string, Figures> }>();
  const customerOf = new Map<Key, string>(); // a charge, refund or dispute → its customer
  const touch = (account: string, customer: string): Map<string, Figures> => {
    const key = keyOf(account, customer);
    let entry = byCustomer.get(key);
    if (!entry) byCustomer.set(key, (entry = { account, customer, currencies: new Map() }));
    return entry.currencies;
  };
  const figures = (account: string, customer: string, currency: string): Figures => {
    const currencies = touch(account, customer);
    let found = currencies.get(currency);
    if (!found) currencies.set(currency, (found = noFigures()));
    return found;
  };
  // Customers stay when deleted; every other object marked deleted is left out.
  const of = (stream: string) => lines.filter((line) => line.stream === stream && (stream === 'customers' || !line.deleted));

  for (const line of of('customers')) {
    records.set(keyOf(line.account_id, line.id), line);
    touch(line.account_id, line.id);
  }
  for (const charge of of('charges')) {
    const customer = field<string | null>(charge, 'customer');
    if (customer === null) continue;
    customerOf.set(keyOf(charge.account_id, charge.id), customer);
    const f = figures(charge.account_id, customer, field<string>(charge, 'currency'));
    const status = field<string>(charge, 'status');
    if (status === 'failed') f.failed += 1;
    if (status !== 'succeeded') continue;
    const created = field<number>(charge, 'created');
    f.succeeded += 1;
    f.sales += field<number>(charge, 'amount');
    f.firstPayment = f.firstPayment === null ? created : Math.min(f.firstPayment, created);
    f.lastPayment = f.lastPayment === null ? created : Math.max(f.lastPayment, created);
  }
  for (const stream of ['refunds', 'disputes']) {
    for (const line of of(stream)) {
      const customer = customerOf.get(keyOf(line.account_id, field<string>(line, 'charge')));
      if (customer === undefined) continue;
      customerOf.set(keyOf(line.account_id, line.id), customer);
      if (stream !== 'refunds') continue;
      const f = figures(line.account_id, customer, field<string>(line, 'currency'));
      if (['failed', 'canceled'].includes(field<string>(line, 'status'))) continue;
      f.refunds += 1;
      f.refunded += field<number>(line, 'amount');
    }
  }
  for (const txn of of('balance_transactions')) {
    const source = field<string | null>(txn, 'source');
    const customer = source === null ? undefined : customerOf.get(keyOf(txn.account_id, source));
    if (customer === undefined) continue;
    const f = figures(txn.account_id, customer, field<string>(txn, 'currency'));
    f.fees += field<number>(txn, 'fee');
    f.net += field<number>(txn, 'net');
  }
  for (const subscription of of('subscriptions')) {
    const customer = field<string | null>(subscription, 'customer');
    if (customer === null) continue;
    const f = figures(subscription.account_id, customer, field<string>(subscription, 'currency'));
    if (ACTIVE_STATUSES.has(field<string>(subscription, 'status'))) f.activeSubscriptions += 1;
  }
  for (const item of items) figures(item.account_id, item.customer_id, item.currency).mrr += item.mrr;

  const rows: CustomerRow[] = [];
  for (const { account, customer, currencies } of byCustomer.values()) {
    const record = records.get(keyOf(account, customer));
    const base = {
      account_id: account,
      is_platform: account === platform,
      customer_id: customer,
      customer_created_at: record ? isoSeconds(field<number>(record, 'created')) : null,
      email: record ? field<string | null>(record, 'email') : null,
      name: record ? field<string | null>(record, 'name') : null,
      is_deleted: record ? record.deleted : null,
    };
    const entries: [string | null, Figures][] = currencies.size > 0 ? [...currencies] : [[null, noFigures()]];
    for (const [currency, f] of entries) {
      rows.push({
        ...base,
        currency,
        succeeded_charges: f.succeeded,
        sales_amount: f.sales,
        refunds: f.refunds,
        refunded_amount: f.refunded,
        fees: f.fees,
        net: f.net,
        first_payment_at: f.firstPayment === null ? null : isoSeconds(f.firstPayment),
        last_payment_at: f.lastPayment === null ? null : isoSeconds(f.lastPayment),
        failed_charges: f.failed,
        active_subscriptions: f.activeSubscriptions,
        mrr: f.mrr,
      });
    }
  }
  return rows;
}

/** Rows as plain values: the warehouse client's bigints as numbers (amounts here fit exactly). */
export function plainRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, typeof value === 'bigint' ? Number(value) : value])));
}

/** Sorts rows by the given columns (nulls first), for comparing row sets. */
export function sortRows<T extends object>(rows: readonly T[], columns: readonly (keyof T & string)[]): T[] {
  const text = (row: T) => columns.map((c) => String((row as Record<string, unknown>)[c] ?? '')).join('\u0000');
  return [...rows].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

/** An item's current MRR, as the MRR oracle (truth-mrr.ts) gives it. */
export interface ItemMrr {
  account_id: string;
  customer_id: string;
  currency: string;
  mrr: number;
}

export type AccountSummaryRow = {
  account_id: string;
  is_platform: boolean;
  currency: string | null;
  connection_status: 'platform' | 'connected' | 'disconnected';
  account_type: string | null;
  country: string | null;
  default_currency: string | null;
  charges_enabled: boolean | null;
  payouts_enabled: boolean | null;
  as_of_at: string;
  first_charge_at: string | null;
  last_charge_at: string | null;
  active_subscriptions: number;
  mrr: number;
} & Record<`${'lifetime' | 'trailing_30d'}_${SummaryMeasure}`, number>;

/** The activity measures the summary totals: int_activity__account_daily's, but the count of balance transactions. */
type SummaryMeasure = Exclude<(typeof ACTIVITY_MEASURES)[number], 'balance_transactions'>;
export const SUMMARY_MEASURES = ACTIVITY_MEASURES.filter((m): m is SummaryMeasure => m !== 'balance_transactions');

/** The UTC day `days` days before `day` (YYYY-MM-DD). */
function daysBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The account_summary mart: `lines` from `warehouseTruth`, the activity days and items' MRR their
 * own oracles compute from the same lines, and `asOf`, the instant the last sync read Stripe at
 * (unix seconds). Trailing 30 days: the 30 UTC days ending with `asOf`'s day.
 */
export function accountSummaryFromTruth(input: {
  lines: readonly TruthLine[];
  platform: string;
  days: readonly ActivityDay[];
  items: readonly ItemMrr[];
  asOf: number;
}): AccountSummaryRow[] {
  const { lines, platform, days, items, asOf } = input;
  const lastDay = new Date(asOf * 1000).toISOString().slice(0, 10);
  const firstDay = daysBefore(lastDay, 29);
  type Totals = Omit<AccountSummaryRow, 'account_id' | 'is_platform' | 'currency' | 'connection_status' | 'account_type' | 'country' | 'default_currency' | 'charges_enabled' | 'payouts_enabled' | 'as_of_at'>;
  const noTotals = (): Totals => {
    const zeros = { first_charge_at: null, last_charge_at: null, active_subscriptions: 0, mrr: 0 } as Totals;
    for (const measure of SUMMARY_MEASURES) zeros[`lifetime_${measure}`] = zeros[`trailing_30d_${measure}`] = 0;
    return zeros;
  };
  const totals = new Map<string, Map<string, Totals>>(); // account → currency → totals
  const of = (account: string, currency: string): Totals => {
    let currencies = totals.get(account);
    if (!currencies) totals.set(account, (currencies = new Map()));
    let found = currencies.get(currency);
    if (!found) currencies.set(currency, (found = noTotals()));
    return found;
  };
  for (const day of days) {
    const t = of(day.account_id, day.currency);
    const trailing = day.day >= firstDay && day.day <= lastDay;
    for (const measure of SUMMARY_MEASURES) {
      t[`lifetime_${measure}`] += day[measure];
      if (trailing) t[`trailing_30d_${measure}`] += day[measure];
    }
  }
  const charges = lines.filter((line) => line.stream === 'charges' && !line.deleted);
  for (const currency of new Set(charges.map((c) => `${c.account_id} ${field<string>(c, 'currency')}`))) {
    const [account, code] = currency.split(' ') as [string, string];
    const created = charges.filter((c) => c.account_id === account && field<string>(c, 'currency') === code).map((c) => field<number>(c, 'created'));
    const t = of(account, code);
    t.first_charge_at = isoSeconds(Math.min(...created));
    t.last_charge_at = isoSeconds(Math.max(...created));
  }
  for (const subscription of lines.filter((line) => line.stream === 'subscriptions' && !line.deleted)) {
    if (ACTIVE_STATUSES.has(field<string>(subscription, 'status'))) of(subscription.account_id, field<string>(subscription, 'currency')).active_subscriptions += 1;
  }
  for (const item of items) of(item.account_id, item.currency).mrr += item.mrr;

  const connected = lines.filter((line) => line.stream === 'accounts' && line.account_id === platform);
  const accounts: Omit<AccountSummaryRow, keyof Totals | 'currency'>[] = [
    { account_id: platform, is_platform: true, connection_status: 'platform', account_type: null, country: null, default_currency: null, charges_enabled: null, payouts_enabled: null, as_of_at: isoSeconds(asOf) },
    ...connected.map((account) => ({
      account_id: account.id,
      is_platform: false,
      connection_status: account.deleted ? ('disconnected' as const) : ('connected' as const),
      account_type: field<string | null>(account, 'type'),
      country: field<string | null>(account, 'country'),
      default_currency: field<string | null>(account, 'default_currency'),
      charges_enabled: field<boolean | null>(account, 'charges_enabled'),
      payouts_enabled: field<boolean | null>(account, 'payouts_enabled'),
      as_of_at: isoSeconds(asOf),
    })),
  ];
  return accounts.flatMap((account): AccountSummaryRow[] => {
    const currencies = totals.get(account.account_id);
    if (!currencies) return [{ ...account, currency: null, ...noTotals() }];
    return [...currencies].map(([currency, t]) => ({ ...account, currency, ...t }));
  });
}
