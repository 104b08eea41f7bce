// The event types our webhook endpoints ask Stripe for: every type whose `data.object` is an object
// of one of our streams and that tells of a change to it, as Stripe's list of event types gives them
// (https://docs.stripe.com/api/events/types; the SDK's `Events.d.ts` names each type's object). The
// type below is Stripe's own list of what `enabled_events` takes, so a misspelt type does not compile.
import type Stripe from 'stripe';
import { STREAMS, type StreamName } from '../streams/catalog.js';

export type EventType = Stripe.WebhookEndpointCreateParams.EnabledEvent;

/**
 * Per stream, the event types about its objects. Left out on purpose: reminders about an object
 * that has not changed (`customer.subscription.trial_will_end`, `invoice.will_be_due`,
 * `invoice.overdue`) and `invoice.upcoming`, whose invoice is a preview without an id.
 */
export const EVENT_TYPES_OF_STREAM: Readonly<Record<StreamName, readonly EventType[]>> = {
  customers: ['customer.created', 'customer.updated', 'customer.deleted'],
  products: ['product.created', 'product.updated', 'product.deleted'],
  prices: ['price.created', 'price.updated', 'price.deleted'],
  coupons: ['coupon.created', 'coupon.updated', 'coupon.deleted'],
  subscriptions: [
    'customer.subscription.created',
    'customer.subscription.updated',
    'customer.subscription.deleted',
    'customer.subscription.paused',
    'customer.subscription.resumed',
    'customer.subscription.pending_update_applied',
    'customer.subscription.pending_update_expired',
  ],
  invoices: [
    'invoice.created',
    'invoice.updated',
    'invoice.deleted',
    'invoice.finalized',
    'invoice.finalization_failed',
    'invoice.sent',
    'invoice.paid',
    'invoice.overpaid',
    'invoice.payment_succeeded',
    'invoice.payment_failed',
    'invoice.payment_action_required',
    'invoice.payment_attempt_required',
    'invoice.marked_uncollectible',
    'invoice.voided',
  ],
  payment_intents: [
    'payment_intent.created',
    'payment_intent.processing',
    'payment_intent.requires_action',
    'payment_intent.amount_capturable_updated',
    'payment_intent.partially_funded',
    'payment_intent.succeeded',
    'payment_intent.payment_failed',
    'payment_intent.canceled',
  ],
  charges: ['charge.pending', 'charge.succeeded', 'charge.failed', 'charge.captured', 'charge.expired', 'charge.refunded', 'charge.updated'],
  // charge.refund.updated carries the refund, not the charge.
  refunds: ['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated'],
  disputes: ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated', 'charge.dispute.closed'],
  credit_notes: ['credit_note.created', 'credit_note.updated', 'credit_note.voided'],
  payouts: ['payout.created', 'payout.updated', 'payout.paid', 'payout.failed', 'payout.canceled', 'payout.reconciliation_completed'],
  // Stripe sends no event about a balance transaction: the stream re-reads pending ones instead.
  balance_transactions: [],
  transfers: ['transfer.created', 'transfer.updated', 'transfer.reversed'],
  application_fees: ['application_fee.created', 'application_fee.refunded'],
  // A connected account's changes reach only the Connect endpoint: it is the connected account's event.
  accounts: ['account.updated'],
  // Every event delivered is a record of this stream: it asks for no type of its own.
  events: [],
};

function typesOf(streams: readonly StreamName[]): EventType[] {
  return [...new Set(streams.flatMap((name) => EVENT_TYPES_OF_STREAM[name]))].sort();
}

const STREAM_LIST = Object.keys(EVENT_TYPES_OF_STREAM) as StreamName[];

/** What the platform's endpoint asks for: the events of the streams read on every account. */
export const PLATFORM_EVENT_TYPES: readonly EventType[] = typesOf(STREAM_LIST.filter((name) => STREAMS[name].scope === 'every_account'));

/** What the Connect endpoint asks for: the same, and the changes of the connected accounts themselves. */
export const CONNECT_EVENT_TYPES: readonly EventType[] = typesOf(STREAM_LIST);
