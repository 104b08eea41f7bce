// The ledger marts' figures computed in TypeScript straight from the simulator's truth (and,
// for which payout swept which funds, from the simulator's own answer to Stripe's
// GET /v1/balance_transactions?payout=po_…), sharing nothing with the SQL: the oracle of
// test/marts/ledger.test.ts.
import type Stripe from 'stripe';
import type { TruthLine } from '../simulator-spec/helpers.js';
import { listAll } from '../simulator-spec/helpers.js';
import { monthOf, objectsOf, type StripeFields } from './world.js';

/** A mart row as the tests compare it: numbers, strings, booleans and nulls. */
export type Row = Record<string, string | number | boolean | null>;

/** Which payout swept each balance transaction: `account/txn_…` → `po_…`. */
export type PayoutLinks = ReadonlyMap<string, string>;

const key = (account: string, id: string): string => `${account}/${id}`;

/** A Stripe epoch second as the warehouse client prints a timestamp. */
export function timestampOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The truth as the warehouse holds it after a stage's sync: the stage's objects, and those of a
 * connected account that has disconnected as they were when last loaded (the truth leaves a
 * disconnected account's objects out; the warehouse keeps them).
 */
export function asLastLoaded(stage: readonly TruthLine[], earlier: readonly TruthLine[] = []): TruthLine[] {
  const gone = new Set(stage.filter((l) => l.stream === 'accounts' && l.deleted).map((l) => l.id));
  return [...stage, ...earlier.filter((l) => gone.has(l.account_id) && l.stream !== 'accounts')];
}

/** Asks the simulator, as Stripe is asked, for the balance transactions of every payout. */
export async function fetchPayoutLinks(stripe: Stripe, platform: string, lines: readonly TruthLine[]): Promise<Map<string, string>> {
  const payouts = new Map(objectsOf(lines, 'payouts').map((p) => [key(p.account, p.object.id), p]));
  const links = new Map<string, string>();
  const queue = [...payouts.values()];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { account, object } = next;
      const options = account === platform ? {} : { stripeAccount: account };
      const swept = await listAll(stripe.balanceTransactions.list({ payout: object.id, limit: 100 }, options));
      for (const txn of swept) links.set(key(account, txn.id), object.id);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return links;
}

interface Indexed {
  readonly byId: ReadonlyMap<string, { stream: string; object: StripeFields }>;
  /** The `py_…` payments transfers made: `account/py_…` of the destination. */
  readonly destinationPayments: ReadonlySet<string>;
}

const SOURCE_STREAMS: Readonly<Record<string, string>> = {
  charges: 'charge',
  refunds: 'refund',
  disputes: 'dispute',
  payouts: 'payout',
  transfers: 'transfer',
  application_fees: 'application_fee',
};

function indexSources(lines: readonly TruthLine[]): Indexed {
  const byId = new Map<string, { stream: string; object: StripeFields }>();
  for (const l of lines) if (l.stream in SOURCE_STREAMS) byId.set(key(l.account_id, l.id), { stream: l.stream, object: l.object as StripeFields });
  const destinationPayments = new Set(
    objectsOf(lines, 'transfers').map(({ object }) => key(object.destination as string, object.destination_payment as string)),
  );
  return { byId, destinationPayments };
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The source object of a balance transaction, found among the objects. */
function sourceOf(index: Indexed, account: string, txn: StripeFields): Row {
  const sourceId = text(txn.source);
  const found = sourceId === null ? undefined : index.byId.get(key(account, sourceId));
  const none = { charge_id: null, customer_id: null, connected_account_id: null };
  if (!found) {
    // A connected account's payment from a transfer is a charge object (`py_…`) no list shows.
    const payment = sourceId !== null && index.destinationPayments.has(key(account, sourceId));
    return { source_id: sourceId, source_type: payment ? 'charge' : 'other', ...none, charge_id: payment ? sourceId : null };
  }
  const type = SOURCE_STREAMS[found.stream] as string;
  const o = found.object;
  const chargeId = type === 'charge' ? o.id : type === 'refund' || type === 'dispute' || type === 'application_fee' ? text(o.charge) : null;
  const charge = chargeId === null ? undefined : index.byId.get(key(account, chargeId));
  return {
    source_id: sourceId,
    source_type: type,
    charge_id: chargeId,
    customer_id: charge?.stream === 'charges' ? text(charge.object.customer) : null,
    connected_account_id: type === 'application_fee' ? text(o.account) : type === 'transfer' ? text(o.destination) : null,
  };
}

/** Rows of `balance_transactions`. */
export function expectedBalanceTransactions(lines: readonly TruthLine[], platform: string, links: PayoutLinks): Row[] {
  const index = indexSources(lines);
  // A payout made after the stage had not swept anything yet.
  const payoutOf = (account: string, id: string): string | null => {
    const payoutId = links.get(key(account, id));
    return payoutId !== undefined && index.byId.has(key(account, payoutId)) ? payoutId : null;
  };
  return objectsOf(lines, 'balance_transactions')
    .filter((t) => !t.deleted)
    .map(({ account, object: t }) => {
      const source = sourceOf(index, account, t);
      return {
        account_id: account,
        is_platform: account === platform,
        balance_transaction_id: t.id,
        created_at: timestampOf(t.created as number),
        available_on_at: timestampOf(t.available_on as number),
        status: t.status as string,
        type: t.type as string,
        reporting_category: t.reporting_category as string,
        currency: t.currency as string,
        amount: t.amount as number,
        fee: t.fee as number,
        net: t.net as number,
        exchange_rate: (t.exchange_rate as number | null) ?? null,
        description: text(t.description),
        source_id: source.source_id ?? null,
        source_type: source.source_type ?? null,
        charge_id: source.charge_id ?? null,
        customer_id: source.customer_id ?? null,
        invoice_id: null,
        subscription_id: null,
        connected_account_id: source.connected_account_id ?? null,
        payout_id: payoutOf(account, t.id),
      };
    });
}

/** Rows of `payout_balance_transactions`: the links of the payouts there are. */
export function expectedPayoutBalanceTransactions(lines: readonly TruthLine[], platform: string, links: PayoutLinks): Row[] {
  const payouts = new Map(objectsOf(lines, 'payouts').map((p) => [key(p.account, p.object.id), p.object]));
  return objectsOf(lines, 'balance_transactions').flatMap(({ account, object: t }) => {
    const payout = payouts.get(key(account, links.get(key(account, t.id)) ?? ''));
    if (!payout) return [];
    return [{
      account_id: account,
      is_platform: account === platform,
      payout_id: payout.id,
      balance_transaction_id: t.id,
      is_payout_itself: payout.balance_transaction === t.id,
      currency: t.currency as string,
      amount: t.amount as number,
      fee: t.fee as number,
      net: t.net as number,
    }];
  });
}

/** Rows of `payouts`: each payout, and the sums of what it swept, its own transaction left out. */
export function expectedPayouts(lines: readonly TruthLine[], platform: string, links: PayoutLinks): Row[] {
  const swept = new Map<string, { n: number; amount: number; fee: number; net: number }>();
  const payouts = objectsOf(lines, 'payouts');
  const own = new Set(payouts.map((p) => key(p.account, p.object.balance_transaction as string)));
  for (const { account, object: t } of objectsOf(lines, 'balance_transactions')) {
    const payoutId = links.get(key(account, t.id));
    if (payoutId === undefined || own.has(key(account, t.id))) continue;
    const sums = swept.get(key(account, payoutId)) ?? { n: 0, amount: 0, fee: 0, net: 0 };
    swept.set(key(account, payoutId), { n: sums.n + 1, amount: sums.amount + (t.amount as number), fee: sums.fee + (t.fee as number), net: sums.net + (t.net as number) });
  }
  return payouts.map(({ account, object: p }) => {
    const sums = swept.get(key(account, p.id)) ?? { n: 0, amount: 0, fee: 0, net: 0 };
    const automatic = p.automatic === true;
    return {
      account_id: account,
      is_platform: account === platform,
      payout_id: p.id,
      created_at: timestampOf(p.created as number),
      arrival_date_at: timestampOf(p.arrival_date as number),
      status: p.status as string,
      is_automatic: automatic,
      type: p.type as string,
      method: p.method as string,
      currency: p.currency as string,
      amount: p.amount as number,
      balance_transaction_id: text(p.balance_transaction),
      failure_balance_transaction_id: text(p.failure_balance_transaction),
      failure_code: text(p.failure_code),
      balance_transactions: automatic ? sums.n : null,
      balance_transactions_amount: automatic ? sums.amount : null,
      balance_transactions_fee: automatic ? sums.fee : null,
      balance_transactions_net: automatic ? sums.net : null,
    };
  });
}

/** The statement's figure each reporting category adds its amount to (the rest: `other`). */
const CATEGORY_FIGURE: Readonly<Record<string, string>> = {
  charge: 'gross_volume',
  refund: 'refunds',
  refund_failure: 'refunds',
  dispute: 'disputes',
  dispute_reversal: 'disputes',
  transfer: 'transfers',
  transfer_reversal: 'transfers',
  platform_earning: 'application_fees_earned',
  platform_earning_refund: 'application_fees_earned',
  payout: 'payouts',
  payout_reversal: 'payouts',
};

const FIGURES = ['transactions', 'gross_volume', 'refunds', 'disputes', 'transfers', 'application_fees_earned', 'payouts', 'other', 'fees', 'application_fees_paid', 'net'] as const;

/** The month after a `YYYY-MM-01`. */
function nextMonth(month: string): string {
  const d = new Date(`${month}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
}

/** Rows of `account_statements_monthly`: by month of creation, every month between the first and the last. */
export function expectedStatements(lines: readonly TruthLine[], platform: string): Row[] {
  const months = new Map<string, Map<string, Record<(typeof FIGURES)[number], number>>>();
  for (const { account, deleted, object: t } of objectsOf(lines, 'balance_transactions')) {
    if (deleted) continue;
    const series = key(account, t.currency as string);
    const byMonth = months.get(series) ?? new Map();
    months.set(series, byMonth);
    const month = monthOf(t.created as number);
    const f = byMonth.get(month) ?? Object.fromEntries(FIGURES.map((name) => [name, 0]));
    byMonth.set(month, f);
    const figure = (CATEGORY_FIGURE[t.reporting_category as string] ?? 'other') as (typeof FIGURES)[number];
    f[figure] += t.amount as number;
    f.transactions += 1;
    f.fees += t.fee as number;
    f.net += t.net as number;
    for (const d of t.fee_details as { type: string; amount: number }[]) if (d.type === 'application_fee') f.application_fees_paid += d.amount;
  }
  const rows: Row[] = [];
  for (const [series, byMonth] of months) {
    const [account, currency] = series.split('/') as [string, string];
    const present = [...byMonth.keys()].sort();
    let balance = 0;
    for (let month = present[0] as string; month <= (present[present.length - 1] as string); month = nextMonth(month)) {
      const f = byMonth.get(month) ?? Object.fromEntries(FIGURES.map((name) => [name, 0]));
      rows.push({ month, account_id: account, is_platform: account === platform, currency, ...f, starting_balance: balance, ending_balance: balance + f.net });
      balance += f.net;
    }
  }
  return rows;
}
