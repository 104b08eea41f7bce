// The simple way to back Stripe up, the baseline of bench/backfill.ts: the SDK's auto-pagination,
// one stream and account after another, with the SDK's default retries. Prints the object count.
//   node --import tsx bench/simple-backfill.ts http://127.0.0.1:PORT
import Stripe from 'stripe';
import { STREAMS, STREAM_NAMES } from '../connector/streams/catalog.js';

const url = new URL(process.argv[2] ?? 'http://127.0.0.1:12111');
const stripe = new Stripe('rk_live_simulator', { host: url.hostname, port: url.port, protocol: 'http' });

type Lister = { list: (params: object, options: object) => AsyncIterable<unknown> };
const resources: Record<string, Lister> = {
  customers: stripe.customers,
  products: stripe.products,
  prices: stripe.prices,
  coupons: stripe.coupons,
  subscriptions: stripe.subscriptions,
  invoices: stripe.invoices,
  payment_intents: stripe.paymentIntents,
  charges: stripe.charges,
  refunds: stripe.refunds,
  disputes: stripe.disputes,
  credit_notes: stripe.creditNotes,
  payouts: stripe.payouts,
  balance_transactions: stripe.balanceTransactions,
  transfers: stripe.transfers,
  application_fees: stripe.applicationFees,
  accounts: stripe.accounts,
  events: stripe.events,
} as unknown as Record<string, Lister>;

const platform = (await stripe.accounts.retrieveCurrent()).id;
const connected: string[] = [];
for await (const account of stripe.accounts.list({ limit: 100 })) connected.push(account.id);

let count = 0;
for (const account of [platform, ...connected]) {
  for (const stream of STREAM_NAMES) {
    if (STREAMS[stream].scope === 'platform' && account !== platform) continue;
    const options = account === platform ? {} : { stripeAccount: account };
    const params = { limit: 100, ...STREAMS[stream].listParams };
    for await (const object of (resources[stream] as Lister).list(params, options)) {
      // Keep nothing: the baseline's memory is the SDK's own.
      void object;
      count++;
    }
  }
}
process.stdout.write(`${count}\n`);
