// The streams: one table, read by one generic reader. A stream differs from another only in its
// path, the `object` type of its objects, how its changes are captured, and a few list flags.

export const STREAM_NAMES = [
  'customers',
  'products',
  'prices',
  'coupons',
  'subscriptions',
  'invoices',
  'payment_intents',
  'charges',
  'refunds',
  'disputes',
  'credit_notes',
  'payouts',
  'balance_transactions',
  'transfers',
  'application_fees',
  'accounts',
  'events',
] as const;

export type StreamName = (typeof STREAM_NAMES)[number];

const STREAM_NAME_SET: ReadonlySet<string> = new Set(STREAM_NAMES);

export function isStreamName(name: string): name is StreamName {
  return STREAM_NAME_SET.has(name);
}

/**
 * How a stream's incremental reads find what changed after its first backfill:
 * - `events`: objects that change or get deleted; the Events API says which, from a cursor.
 * - `created_lookback`: objects that change only while pending, without events (balance
 *   transactions): re-read by `created` from the oldest one still pending at the last read, and
 *   at least from the cursor minus the lookback window.
 * - `relist`: few objects, listed whole every run (connected accounts).
 */
export type ChangeCapture = 'events' | 'created_lookback' | 'relist';

export interface StreamDefinition {
  readonly name: StreamName;
  /** The list endpoint; retrieve is `${path}/${id}`. */
  readonly path: string;
  /** The `object` field of the stream's objects. */
  readonly objectType: string;
  readonly changes: ChangeCapture;
  /** Parameters every list request of the stream sends. */
  readonly listParams: Readonly<Record<string, string>>;
  /**
   * Fields of the stream's objects that Stripe sends as ids unless expanded, and that the
   * records hold expanded: every list asks for `expand[]=data.<field>` and every retrieve for
   * `expand[]=<field>`. An event's copy of such an object is never expanded, so an event about
   * one always fetches it again (one more request per changed object).
   */
  readonly expand: readonly string[];
  /** `platform`: read from the platform only (its connected accounts). */
  readonly scope: 'every_account' | 'platform';
  /** Stripe's objects of this type have no `livemode`: the connector adds it from the key's mode. */
  readonly addsLivemode: boolean;
  /**
   * How many pages an account usually has of this stream, relative to others, before its first
   * page tells: the scheduler starts the streams that are usually largest first (a balance
   * transaction for every movement of money makes that stream the largest almost everywhere).
   */
  readonly sizeHint: number;
  /**
   * Objects that Stripe still changes, without an event, while this field holds this value (a
   * balance transaction's status until its funds are available): they are read again until then.
   */
  readonly changesWhile?: { readonly field: string; readonly value: string };
  readonly description: string;
}

const EVENTS: ChangeCapture = 'events';

function stream(name: StreamName, objectType: string, description: string, extra: Partial<StreamDefinition> = {}): StreamDefinition {
  return {
    name,
    path: `/v1/${name}`,
    objectType,
    changes: EVENTS,
    listParams: {},
    expand: [],
    scope: 'every_account',
    addsLivemode: false,
    sizeHint: 0.5,
    description,
    ...extra,
  };
}

export const STREAMS: Readonly<Record<StreamName, StreamDefinition>> = {
  customers: stream('customers', 'customer', 'Customers; deleted ones are marked deleted.', { sizeHint: 1 }),
  products: stream('products', 'product', 'Products, archived and deleted ones included.'),
  prices: stream('prices', 'price', 'Prices, inactive ones included.'),
  coupons: stream('coupons', 'coupon', 'Coupons; deleted ones are marked deleted.'),
  // Discounts expanded: only an expanded discount names its coupon, which MRR needs (forever coupons reduce it).
  subscriptions: stream('subscriptions', 'subscription', 'Subscriptions of every status, canceled ones included, with their discounts expanded.', {
    listParams: { status: 'all' },
    expand: ['discounts'],
    sizeHint: 1,
  }),
  invoices: stream('invoices', 'invoice', 'Invoices.', { sizeHint: 2 }),
  payment_intents: stream('payment_intents', 'payment_intent', 'Payment intents.', { sizeHint: 3 }),
  charges: stream('charges', 'charge', 'Charges, succeeded and failed.', { sizeHint: 3 }),
  refunds: stream('refunds', 'refund', 'Refunds.', { addsLivemode: true }),
  disputes: stream('disputes', 'dispute', 'Disputes.'),
  credit_notes: stream('credit_notes', 'credit_note', 'Credit notes.'),
  payouts: stream('payouts', 'payout', 'Payouts.', { sizeHint: 1 }),
  balance_transactions: stream('balance_transactions', 'balance_transaction', 'Balance transactions: every movement of funds.', {
    changes: 'created_lookback',
    changesWhile: { field: 'status', value: 'pending' },
    addsLivemode: true,
    sizeHint: 4,
  }),
  transfers: stream('transfers', 'transfer', 'Transfers to connected accounts.'),
  application_fees: stream('application_fees', 'application_fee', "Application fees collected from connected accounts' charges.", { sizeHint: 2 }),
  accounts: stream('accounts', 'account', "The platform's connected accounts; disconnected ones are marked deleted.", {
    changes: 'relist',
    scope: 'platform',
    addsLivemode: true,
  }),
  // Events never change; new ones arrive through the same events pass that updates the other streams.
  events: stream('events', 'event', 'Events of the last 30 days (Stripe keeps no older ones).', { sizeHint: 2 }),
};

/** What every list request of a stream sends: its parameters and its expansions. */
export function listQuery(definition: StreamDefinition): Readonly<Record<string, string | readonly string[]>> {
  return definition.expand.length > 0 ? { ...definition.listParams, 'expand[]': definition.expand.map((field) => `data.${field}`) } : definition.listParams;
}

/** What every retrieve of one of a stream's objects sends: its expansions. */
export function retrieveQuery(definition: StreamDefinition): Readonly<Record<string, readonly string[]>> {
  return definition.expand.length > 0 ? { 'expand[]': definition.expand } : {};
}

/** The stream that holds objects of each `object` type. */
export const STREAM_OF_OBJECT: ReadonlyMap<string, StreamName> = new Map(
  Object.values(STREAMS).map((definition) => [definition.objectType, definition.name]),
);

/**
 * Objects Stripe changes without an event of their own, refreshed when a related event arrives:
 * a charge's `disputed` flag turns true when a dispute opens (the events are about the dispute).
 */
export const RELATED_REFRESH: Readonly<Record<string, readonly { readonly stream: StreamName; readonly field: string }[]>> = {
  dispute: [{ stream: 'charges', field: 'charge' }],
};
