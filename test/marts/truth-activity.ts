// The activity marts' figures computed in TypeScript straight from the simulator's truth, sharing
// nothing with the SQL: what pricing_transactions_monthly, account_transactions_monthly and
// account_activity_daily must hold.
import type { TruthLine } from '../simulator-spec/helpers.js';
import { dayOf, monthOf, objectsOf, type StripeFields } from './world.js';

/**
 * The objects the warehouse holds at a stage, as truth lines: the stage's truth, and for a
 * connected account that has left since `earlier` (the truth no longer shows its objects), its
 * objects as `earlier` had them, which is how the last load read them.
 */
export function linesHeld(current: readonly TruthLine[], earlier: readonly TruthLine[] | null): TruthLine[] {
  const gone = new Set(current.filter((l) => l.stream === 'accounts' && l.deleted).map((l) => l.id));
  const kept = (earlier ?? []).filter((l) => l.stream !== 'accounts' && gone.has(l.account_id));
  return [...current, ...kept];
}

/** The non-deleted objects of a stream, with their account. */
function live(lines: readonly TruthLine[], stream: string): { account: string; object: StripeFields }[] {
  return objectsOf(lines, stream).filter((o) => !o.deleted);
}

const text = (value: unknown): string => value as string;
const integer = (value: unknown): number => value as number;

/** Every date from `first` to `last` (YYYY-MM-DD, both included), by days or by months. */
export function datesBetween(first: string, last: string, step: 'day' | 'month'): string[] {
  const out: string[] = [];
  for (let at = new Date(`${first}T00:00:00Z`); at.toISOString().slice(0, 10) <= last; ) {
    out.push(at.toISOString().slice(0, 10));
    if (step === 'day') at = new Date(at.getTime() + 86_400_000);
    else at = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  }
  return out;
}

function extent(values: Iterable<string>): [string, string] | null {
  const sorted = [...values].sort();
  return sorted.length === 0 ? null : [sorted[0] as string, sorted[sorted.length - 1] as string];
}

/** The connected account's `payment`s that receive a platform transfer: `account|py_…` of every transfer of the platform. */
function destinationPayments(lines: readonly TruthLine[], platform: string): Set<string> {
  return new Set(
    live(lines, 'transfers')
      .filter((t) => t.account === platform && t.object.destination_payment)
      .map((t) => `${text(t.object.destination)}|${text(t.object.destination_payment)}`),
  );
}

export interface PricingMonth {
  month: string;
  platform_transactions: number;
  connected_account_transactions: number;
  total_transactions: number;
  connected_accounts_with_transactions: number;
  destination_payment_transactions: number;
}

export function pricingTransactionsMonthly(lines: readonly TruthLine[], platform: string): PricingMonth[] {
  const payments = destinationPayments(lines, platform);
  const months = new Map<string, { platform: number; connected: number; accounts: Set<string>; destination: number }>();
  for (const { account, object } of live(lines, 'balance_transactions')) {
    const month = monthOf(object.created as number);
    const m = months.get(month) ?? { platform: 0, connected: 0, accounts: new Set<string>(), destination: 0 };
    months.set(month, m);
    if (account === platform) {
      m.platform++;
      continue;
    }
    m.connected++;
    m.accounts.add(account);
    if (object.type === 'payment' && payments.has(`${account}|${text(object.source)}`)) m.destination++;
  }
  const span = extent(months.keys());
  if (!span) return [];
  return datesBetween(span[0], span[1], 'month').map((month) => {
    const m = months.get(month);
    const platformCount = m?.platform ?? 0;
    const connectedCount = m?.connected ?? 0;
    return {
      month,
      platform_transactions: platformCount,
      connected_account_transactions: connectedCount,
      total_transactions: platformCount + connectedCount,
      connected_accounts_with_transactions: m?.accounts.size ?? 0,
      destination_payment_transactions: m?.destination ?? 0,
    };
  });
}

/** The mart's columns by reporting category, and which categories each counts. */
const CATEGORY_COLUMNS = ['charge', 'refund', 'dispute', 'payout', 'transfer', 'fee', 'platform_earning'] as const;

/** Stripe's reporting category of a balance transaction; an older one without it, by its type. */
export function reportingCategory(object: StripeFields): string {
  if (typeof object.reporting_category === 'string') return object.reporting_category;
  const type = text(object.type);
  const byType: Record<string, string> = {
    charge: 'charge',
    payment: 'charge',
    refund: 'refund',
    payment_refund: 'refund',
    payout_cancel: 'payout_reversal',
    payout_failure: 'payout_reversal',
    transfer_cancel: 'transfer_reversal',
    transfer_failure: 'transfer_reversal',
    transfer_refund: 'transfer_reversal',
    application_fee: 'platform_earning',
    application_fee_refund: 'platform_earning_refund',
    stripe_fee: 'fee',
    stripe_fx_fee: 'fee',
    tax_fee: 'fee',
  };
  return byType[type] ?? type;
}

export type AccountMonth = { month: string; account_id: string; is_platform: boolean; transactions: number } & Record<`${(typeof CATEGORY_COLUMNS)[number] | 'other'}_transactions`, number>;

export function accountTransactionsMonthly(lines: readonly TruthLine[], platform: string): AccountMonth[] {
  const rows = new Map<string, AccountMonth>();
  for (const { account, object } of live(lines, 'balance_transactions')) {
    const month = monthOf(object.created as number);
    const key = `${account}|${month}`;
    let row = rows.get(key);
    if (!row) {
      row = { month, account_id: account, is_platform: account === platform, transactions: 0, other_transactions: 0 } as AccountMonth;
      for (const category of CATEGORY_COLUMNS) row[`${category}_transactions`] = 0;
      rows.set(key, row);
    }
    const category = reportingCategory(object);
    const column = (CATEGORY_COLUMNS as readonly string[]).includes(category) ? category : 'other';
    row.transactions++;
    row[`${column as (typeof CATEGORY_COLUMNS)[number]}_transactions`]++;
  }
  return [...rows.values()];
}

export const ACTIVITY_MEASURES = [
  'charges',
  'succeeded_charges',
  'failed_charges',
  'gross_volume',
  'refunds',
  'refunded_amount',
  'disputes',
  'disputed_amount',
  'balance_transactions',
  'fees',
  'net',
  'payouts',
  'payout_amount',
  'application_fees',
  'application_fee_amount',
  'new_customers',
] as const;

type Measure = (typeof ACTIVITY_MEASURES)[number];

export type ActivityDay = { day: string; account_id: string; is_platform: boolean; currency: string } & Record<Measure, number>;

export function accountActivityDaily(lines: readonly TruthLine[], platform: string): ActivityDay[] {
  const days = new Map<string, ActivityDay>();
  const dayRow = (account: string, currency: string, created: number): ActivityDay => {
    const day = dayOf(created);
    const key = `${account}|${currency}|${day}`;
    let row = days.get(key);
    if (!row) {
      row = { day, account_id: account, is_platform: account === platform, currency } as ActivityDay;
      for (const measure of ACTIVITY_MEASURES) row[measure] = 0;
      days.set(key, row);
    }
    return row;
  };
  for (const { account, object } of live(lines, 'charges')) {
    const row = dayRow(account, text(object.currency), integer(object.created));
    row.charges++;
    if (object.status === 'succeeded') {
      row.succeeded_charges++;
      row.gross_volume += integer(object.amount);
    }
    if (object.status === 'failed') row.failed_charges++;
  }
  // Objects counted with their amount: a refund that failed or was canceled returned nothing.
  const counted: [stream: string, count: Measure, amount: Measure, keep: (object: StripeFields) => boolean][] = [
    ['refunds', 'refunds', 'refunded_amount', (o) => o.status !== 'failed' && o.status !== 'canceled'],
    ['disputes', 'disputes', 'disputed_amount', () => true],
    ['payouts', 'payouts', 'payout_amount', () => true],
    ['application_fees', 'application_fees', 'application_fee_amount', () => true],
  ];
  for (const [stream, count, amount, keep] of counted) {
    for (const { account, object } of live(lines, stream).filter((o) => keep(o.object))) {
      const row = dayRow(account, text(object.currency), integer(object.created));
      row[count]++;
      row[amount] += integer(object.amount);
    }
  }
  for (const { account, object } of live(lines, 'balance_transactions')) {
    const row = dayRow(account, text(object.currency), integer(object.created));
    row.balance_transactions++;
    row.fees += integer(object.fee);
    row.net += integer(object.net);
  }
  // A customer counts in its own currency, else in its connected account's default currency.
  const defaultCurrency = new Map(objectsOf(lines, 'accounts').map((a) => [a.object.id, a.object.default_currency as string | null]));
  for (const { account, object } of live(lines, 'customers')) {
    const currency = (object.currency as string | null) ?? defaultCurrency.get(account) ?? null;
    if (currency !== null) dayRow(account, currency, integer(object.created)).new_customers++;
  }

  // Every day between an account's first and last day in a currency, zeros where nothing happened.
  const spans = new Map<string, string[]>();
  for (const row of days.values()) {
    const key = `${row.account_id}|${row.currency}`;
    const active = spans.get(key) ?? [];
    active.push(row.day);
    spans.set(key, active);
  }
  const out: ActivityDay[] = [];
  for (const [key, active] of spans) {
    const [account, currency] = key.split('|') as [string, string];
    const [first, last] = extent(active) as [string, string];
    for (const day of datesBetween(first, last, 'day')) out.push(dayRow(account, currency, Date.parse(`${day}T00:00:00Z`) / 1000));
  }
  return out;
}
