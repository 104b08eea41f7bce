// The simulator's compact record of each Stripe object. A row holds only what varies between
// objects; the renderer expands it into the full Stripe shape on demand, so a million objects fit
// in a few hundred megabytes. Rows are mutated only through World.update, which records the
// previous values for `*.updated` events; arrays inside rows are replaced, never mutated, so a
// shallow copy is a faithful snapshot.

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
/** Streams whose objects live in an account's store (events and accounts are kept apart). */
export type ObjectStreamName = Exclude<StreamName, 'events' | 'accounts'>;

export interface BaseRow {
  readonly id: string;
  readonly created: number;
  /** Creation order within the whole world: breaks ties between equal `created` values. */
  readonly seq: number;
  deleted: boolean;
  metadata: Readonly<Record<string, string>>;
  /** The last rendering and what it was rendered for (see render.ts); cleared on every change. */
  rendered?: { readonly key: number; readonly json: Buffer } | undefined;
  /** What the row was last rendered for: a rendering is kept from the second time on. */
  lastRenderKey?: number;
}

/** A customer's contact details as copied onto a charge or an invoice when it is made. */
export interface ContactSnapshot {
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly address: CustomerRow['address'];
}

export interface CustomerRow extends BaseRow {
  readonly stream: 'customers';
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  address: { city: string; country: string; line1: string; postal_code: string } | null;
  balance: number;
  delinquent: boolean;
  discountCoupon: string | null;
  invoicePrefix: string;
  nextInvoiceSequence: number;
}

export interface ProductRow extends BaseRow {
  readonly stream: 'products';
  name: string;
  description: string | null;
  active: boolean;
  defaultPrice: string | null;
  updated: number;
  kind: 'service' | 'good';
}

export interface Recurring {
  readonly interval: 'month' | 'year';
  readonly intervalCount: number;
}

export interface PriceRow extends BaseRow {
  readonly stream: 'prices';
  product: string;
  unitAmount: number;
  recurring: Recurring | null;
  active: boolean;
  nickname: string | null;
  lookupKey: string | null;
}

export interface CouponRow extends BaseRow {
  readonly stream: 'coupons';
  name: string;
  percentOff: number | null;
  amountOff: number | null;
  duration: 'once' | 'repeating' | 'forever';
  durationInMonths: number | null;
  timesRedeemed: number;
  valid: boolean;
  maxRedemptions: number | null;
}

export interface SubscriptionItem {
  readonly id: string;
  readonly created: number;
  readonly price: string;
  /** The price as it was when the item was set: the item shows it, as Stripe's items do. */
  readonly priceSnapshot: Readonly<PriceRow>;
  readonly quantity: number;
}

export type SubscriptionStatus =
  | 'incomplete'
  | 'incomplete_expired'
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'canceled'
  | 'unpaid'
  | 'paused';

export interface SubscriptionRow extends BaseRow {
  readonly stream: 'subscriptions';
  readonly customer: string;
  items: readonly SubscriptionItem[];
  status: SubscriptionStatus;
  startDate: number;
  billingCycleAnchor: number;
  currentPeriodStart: number;
  currentPeriodEnd: number;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  endedAt: number | null;
  cancellationReason: 'cancellation_requested' | 'payment_failed' | null;
  trialStart: number | null;
  trialEnd: number | null;
  latestInvoice: string | null;
  /** Stripe's `discounts`: the coupons applied to the whole subscription (none on its items). */
  discounts: readonly SubscriptionDiscount[];
  pausedUntil: number | null;
}

/** The id of the discount of a subscription (`sub_…`): it has one at most. */
export function discountIdOf(subscriptionId: string): string {
  return `di_${subscriptionId.slice(4, 28)}`;
}

/** A Discount (`di_…`): a coupon applied to a subscription, from `start`. */
export interface SubscriptionDiscount {
  readonly id: string;
  readonly coupon: string;
  readonly start: number;
  /** When a repeating coupon stops applying; null for once and forever coupons, as Stripe's `end`. */
  readonly end: number | null;
}

export interface InvoiceLine {
  readonly id: string;
  readonly price: string;
  readonly subscriptionItem: string | null;
  readonly description: string;
  readonly quantity: number;
  readonly amount: number;
  readonly periodStart: number;
  readonly periodEnd: number;
}

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';

export interface InvoiceRow extends BaseRow {
  readonly stream: 'invoices';
  readonly customer: string;
  readonly subscription: string | null;
  readonly billingReason: 'subscription_create' | 'subscription_cycle' | 'manual';
  readonly lines: readonly InvoiceLine[];
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly subtotal: number;
  readonly discountAmount: number;
  readonly couponId: string | null;
  readonly customerDetails: ContactSnapshot;
  status: InvoiceStatus;
  number: string | null;
  amountPaid: number;
  attemptCount: number;
  paymentIntent: string | null;
  charge: string | null;
  finalizedAt: number | null;
  paidAt: number | null;
  voidedAt: number | null;
  markedUncollectibleAt: number | null;
  nextPaymentAttempt: number | null;
  postPaymentCreditNotesAmount: number;
}

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface PaymentIntentRow extends BaseRow {
  readonly stream: 'payment_intents';
  readonly customer: string | null;
  readonly amount: number;
  readonly invoice: string | null;
  readonly description: string | null;
  readonly applicationFeeAmount: number | null;
  readonly clientSecretSuffix: string;
  status: PaymentIntentStatus;
  amountReceived: number;
  latestCharge: string | null;
  paymentMethod: string | null;
  lastErrorCode: string | null;
  canceledAt: number | null;
  cancellationReason: 'abandoned' | 'duplicate' | 'requested_by_customer' | null;
}

export interface CardDetails {
  readonly brand: 'visa' | 'mastercard' | 'amex';
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly country: string;
  readonly fingerprint: string;
  readonly funding: 'credit' | 'debit';
}

export interface ChargeRow extends BaseRow {
  readonly stream: 'charges';
  readonly customer: string | null;
  readonly paymentIntent: string | null;
  readonly invoice: string | null;
  readonly amount: number;
  readonly description: string | null;
  readonly card: CardDetails;
  readonly billingDetails: ContactSnapshot;
  readonly paymentMethod: string;
  readonly applicationFeeAmount: number | null;
  readonly riskScore: number;
  status: 'succeeded' | 'failed';
  failureCode: string | null;
  failureMessage: string | null;
  balanceTransaction: string | null;
  applicationFee: string | null;
  amountRefunded: number;
  refunds: readonly string[];
  disputed: boolean;
  receiptNumber: string | null;
}

export interface RefundRow extends BaseRow {
  readonly stream: 'refunds';
  readonly charge: string;
  readonly paymentIntent: string | null;
  readonly amount: number;
  readonly reason: 'duplicate' | 'fraudulent' | 'requested_by_customer' | null;
  status: 'pending' | 'succeeded' | 'failed';
  balanceTransaction: string | null;
}

export type DisputeStatus =
  | 'warning_needs_response'
  | 'needs_response'
  | 'under_review'
  | 'won'
  | 'lost';

export interface DisputeRow extends BaseRow {
  readonly stream: 'disputes';
  readonly charge: string;
  readonly paymentIntent: string | null;
  readonly amount: number;
  readonly reason: 'fraudulent' | 'product_not_received' | 'duplicate' | 'subscription_canceled' | 'general';
  readonly evidenceDueBy: number;
  readonly network: string;
  status: DisputeStatus;
  balanceTransactions: readonly string[];
  hasEvidence: boolean;
  submissionCount: number;
}

export interface CreditNoteRow extends BaseRow {
  readonly stream: 'credit_notes';
  readonly invoice: string;
  readonly customer: string;
  readonly invoiceLine: string;
  readonly amount: number;
  readonly number: string;
  readonly reason: 'duplicate' | 'fraudulent' | 'order_change' | 'product_unsatisfactory' | null;
  readonly refund: string | null;
  readonly type: 'pre_payment' | 'post_payment';
  readonly lineId: string;
  status: 'issued' | 'void';
  voidedAt: number | null;
}

export type PayoutStatus = 'pending' | 'in_transit' | 'paid' | 'failed' | 'canceled';

export interface PayoutRow extends BaseRow {
  readonly stream: 'payouts';
  readonly amount: number;
  readonly arrivalDate: number;
  readonly destination: string;
  readonly balanceTransaction: string;
  status: PayoutStatus;
  failureBalanceTransaction: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  reconciliationStatus: 'not_applicable' | 'in_progress' | 'completed';
}

export interface FeeDetail {
  readonly amount: number;
  readonly type: 'stripe_fee' | 'application_fee' | 'tax';
  readonly description: string;
  readonly application: string | null;
}

export interface BalanceTransactionRow extends BaseRow {
  readonly stream: 'balance_transactions';
  readonly amount: number;
  readonly fee: number;
  readonly net: number;
  readonly type: string;
  readonly reportingCategory: string;
  readonly source: string | null;
  readonly description: string | null;
  readonly availableOn: number;
  readonly feeDetails: readonly FeeDetail[];
  /** Set when the funds came in another currency than the account's: that currency's major unit in the account's (Stripe's exchange_rate). */
  readonly exchangeRate: number | null;
  /** The payout that swept this transaction out, once one has (for the `payout` list filter). */
  payout: string | null;
}

export interface TransferRow extends BaseRow {
  readonly stream: 'transfers';
  readonly amount: number;
  readonly destination: string;
  readonly destinationPayment: string;
  readonly balanceTransaction: string;
  readonly description: string | null;
  readonly transferGroup: string | null;
  amountReversed: number;
}

export interface ApplicationFeeRow extends BaseRow {
  readonly stream: 'application_fees';
  readonly account: string;
  /** The charge's currency: a fee is taken in it, whatever the platform's own. */
  readonly currency: string;
  readonly amount: number;
  readonly charge: string;
  readonly balanceTransaction: string;
  amountRefunded: number;
}

export interface AccountRow extends BaseRow {
  readonly stream: 'accounts';
  readonly type: 'standard' | 'express' | 'custom';
  readonly country: string;
  readonly defaultCurrency: string;
  readonly businessName: string;
  email: string;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
}

export type ObjectRow =
  | CustomerRow
  | ProductRow
  | PriceRow
  | CouponRow
  | SubscriptionRow
  | InvoiceRow
  | PaymentIntentRow
  | ChargeRow
  | RefundRow
  | DisputeRow
  | CreditNoteRow
  | PayoutRow
  | BalanceTransactionRow
  | TransferRow
  | ApplicationFeeRow;

export type AnyRow = ObjectRow | AccountRow;

/** Maps a stream name to its row type. */
export type RowOf<S extends StreamName> = Extract<AnyRow, { stream: S }>;
