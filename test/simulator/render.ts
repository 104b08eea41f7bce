// Turns rows into the JSON Stripe would send. Each object type is Stripe's own sample object with
// the fields that vary filled in from the row, so the simulated objects have the sample's fields
// and JSON types. Some shapes depend on the API version the object is rendered at.
import { stripeSample } from './samples.js';
import type {
  AccountRow,
  AnyRow,
  ApplicationFeeRow,
  BalanceTransactionRow,
  ChargeRow,
  CouponRow,
  CreditNoteRow,
  CustomerRow,
  DisputeRow,
  InvoiceLine,
  InvoiceRow,
  ObjectRow,
  PaymentIntentRow,
  PayoutRow,
  PriceRow,
  ProductRow,
  RefundRow,
  SubscriptionDiscount,
  SubscriptionItem,
  SubscriptionRow,
  TransferRow,
} from './rows.js';
import { discountIdOf } from './rows.js';
import type { AccountState, EventRecord } from './store.js';
import { ObjectTemplate, RawJson, toJson, type TemplateValue } from './template.js';

/** The API version that moved subscription periods onto items and invoice payments off invoices. */
export const BASIL = '2025-03-31';

export type Era = 'pre_basil' | 'current';

export function eraOf(version: string): Era {
  return version.slice(0, 10) < BASIL ? 'pre_basil' : 'current';
}

/** Names each Stripe object type in the object's `object` field. */
export const OBJECT_TYPES = {
  customers: 'customer',
  products: 'product',
  prices: 'price',
  coupons: 'coupon',
  subscriptions: 'subscription',
  invoices: 'invoice',
  payment_intents: 'payment_intent',
  charges: 'charge',
  refunds: 'refund',
  disputes: 'dispute',
  credit_notes: 'credit_note',
  payouts: 'payout',
  balance_transactions: 'balance_transaction',
  transfers: 'transfer',
  application_fees: 'application_fee',
  accounts: 'account',
  events: 'event',
} as const;

export interface RenderContext {
  readonly account: AccountState;
  readonly era: Era;
  /** The simulated time: a balance transaction's status depends on it. */
  readonly now: number;
  /** The platform's Connect application id. */
  readonly applicationId: string;
}

const NESTED_LIST_LIMIT = 10;

function sub(sample: Readonly<Record<string, unknown>>, ...path: (string | number)[]): Readonly<Record<string, unknown>> {
  let value: unknown = sample;
  for (const step of path) value = (value as Record<string | number, unknown>)[step];
  return value as Readonly<Record<string, unknown>>;
}

function list(url: string, items: readonly string[], total: number): RawJson {
  return new RawJson(`{"object":"list","data":[${items.join(',')}],"has_more":${total > items.length},"url":${JSON.stringify(url)}}`);
}

function decimal(amount: number): string {
  return String(amount);
}

// Templates are compiled on first use: the samples file is read once.
let compiled: ReturnType<typeof compileTemplates> | undefined;
function templates(): ReturnType<typeof compileTemplates> {
  compiled ??= compileTemplates();
  return compiled;
}

function compileTemplates() {
  const customer = stripeSample('customer');
  const subscription = stripeSample('subscription');
  const item = sub(subscription, 'items', 'data', 0);
  const invoice = stripeSample('invoice');
  const creditNote = stripeSample('credit_note');
  const charge = stripeSample('charge');
  const itemKeys = ['created', 'discounts', 'id', 'metadata', 'price', 'plan', 'quantity', 'subscription', 'billing_thresholds'] as const;
  const subscriptionKeys = [
    'application', 'application_fee_percent', 'billing_cycle_anchor', 'billing_cycle_anchor_config', 'cancel_at', 'canceled_at',
    'cancellation_details', 'created', 'currency', 'customer', 'discounts', 'ended_at', 'id', 'items', 'latest_invoice', 'livemode',
    'metadata', 'next_pending_invoice_item_invoice', 'pause_collection', 'pending_invoice_item_interval', 'pending_update',
    'start_date', 'status', 'transfer_data', 'trial_end', 'trial_start', 'cancel_at_period_end', 'billing_thresholds', 'billing_schedules',
  ] as const;
  const invoiceKeys = [
    'account_country', 'account_name', 'amount_due', 'amount_paid', 'amount_remaining', 'amount_overpaid', 'attempt_count', 'attempted',
    'auto_advance', 'billing_reason', 'created', 'currency', 'customer', 'customer_address', 'customer_email', 'customer_name',
    'customer_phone', 'customer_shipping', 'discounts', 'due_date', 'effective_at', 'ending_balance', 'from_invoice', 'hosted_invoice_url',
    'id', 'invoice_pdf', 'last_finalization_error', 'lines', 'livemode', 'metadata', 'next_payment_attempt', 'number',
    'payment_settings', 'period_end', 'period_start', 'post_payment_credit_notes_amount', 'receipt_number', 'shipping_cost',
    'shipping_details', 'status', 'status_transitions', 'subscription', 'subtotal', 'subtotal_excluding_tax', 'total',
    'total_discount_amounts', 'total_excluding_tax', 'webhooks_delivered_at', 'total_pretax_credit_amounts', 'total_taxes',
  ] as const;
  const preBasilInvoice = ['paid', 'paid_out_of_band', 'charge', 'payment_intent'] as const;
  return {
    customer: new ObjectTemplate(customer, ['address', 'created', 'currency', 'delinquent', 'description', 'discount', 'email', 'id', 'invoice_prefix', 'livemode', 'metadata', 'name', 'phone', 'shipping'] as const),
    product: new ObjectTemplate(stripeSample('product'), ['active', 'created', 'default_price', 'description', 'id', 'livemode', 'metadata', 'name', 'package_dimensions', 'type', 'updated'] as const),
    price: new ObjectTemplate(stripeSample('price'), ['active', 'created', 'currency', 'custom_unit_amount', 'id', 'livemode', 'lookup_key', 'metadata', 'nickname', 'product', 'recurring', 'transform_quantity', 'type', 'unit_amount', 'unit_amount_decimal'] as const),
    plan: new ObjectTemplate(sub(item, 'plan'), ['active', 'amount', 'amount_decimal', 'billing_scheme', 'created', 'currency', 'id', 'interval', 'interval_count', 'livemode', 'metadata', 'nickname', 'product', 'transform_usage'] as const),
    coupon: new ObjectTemplate(stripeSample('coupon'), ['amount_off', 'created', 'currency', 'duration', 'duration_in_months', 'id', 'livemode', 'max_redemptions', 'metadata', 'name', 'percent_off', 'redeem_by', 'times_redeemed', 'valid'] as const),
    // Before 2025-09-30.clover a discount held its coupon expanded in `coupon`; since, `source.coupon`
    // holds its id. Eras split at basil, so the versions between basil and clover get the newer shape.
    discount: {
      current: new ObjectTemplate(sub(customer, 'discount'), ['customer', 'end', 'id', 'start', 'subscription', 'subscription_item', 'source'] as const),
      pre_basil: new ObjectTemplate(sub(customer, 'discount'), ['customer', 'end', 'id', 'start', 'subscription', 'subscription_item', 'coupon'] as const, { add: ['coupon'], remove: ['source'] }),
    },
    subscriptionItem: {
      current: new ObjectTemplate(item, [...itemKeys, 'current_period_end', 'current_period_start'] as const),
      pre_basil: new ObjectTemplate(item, itemKeys, { remove: ['current_period_end', 'current_period_start'] }),
    },
    subscription: {
      current: new ObjectTemplate(subscription, subscriptionKeys),
      pre_basil: new ObjectTemplate(subscription, [...subscriptionKeys, 'current_period_end', 'current_period_start'] as const, { add: ['current_period_end', 'current_period_start'] }),
    },
    invoice: {
      current: new ObjectTemplate(invoice, [...invoiceKeys, 'parent'] as const),
      pre_basil: new ObjectTemplate(invoice, [...invoiceKeys, ...preBasilInvoice] as const, { add: [...preBasilInvoice], remove: ['parent'] }),
    },
    invoiceLine: new ObjectTemplate(sub(invoice, 'lines', 'data', 0), ['amount', 'currency', 'description', 'id', 'invoice', 'livemode', 'period', 'quantity', 'subscription', 'parent', 'pricing', 'subtotal', 'taxes', 'pretax_credit_amounts'] as const),
    paymentIntent: new ObjectTemplate(stripeSample('payment_intent'), [
      'amount', 'amount_received', 'application', 'application_fee_amount', 'canceled_at', 'cancellation_reason', 'client_secret', 'created',
      'currency', 'customer', 'description', 'id', 'last_payment_error', 'latest_charge', 'livemode', 'metadata', 'next_action',
      'payment_method', 'payment_method_configuration_details', 'processing', 'shipping', 'status', 'transfer_data', 'managed_payments',
    ] as const),
    charge: new ObjectTemplate(charge, [
      'amount', 'amount_captured', 'amount_refunded', 'application', 'application_fee', 'application_fee_amount', 'balance_transaction',
      'billing_details', 'calculated_statement_descriptor', 'captured', 'created', 'currency', 'customer', 'description', 'disputed',
      'failure_code', 'failure_message', 'id', 'livemode', 'metadata', 'outcome', 'paid', 'payment_intent', 'payment_method',
      'payment_method_details', 'receipt_email', 'receipt_number', 'receipt_url', 'refunded', 'refunds', 'shipping', 'source', 'status', 'transfer_data',
    ] as const),
    card: new ObjectTemplate(sub(charge, 'payment_method_details', 'card'), ['amount_authorized', 'brand', 'country', 'exp_month', 'exp_year', 'fingerprint', 'funding', 'installments', 'last4', 'network', 'overcapture', 'three_d_secure', 'wallet', 'authorization_code', 'regulated_status'] as const),
    billingDetails: new ObjectTemplate(sub(charge, 'billing_details'), ['address', 'email', 'name', 'phone'] as const),
    outcome: new ObjectTemplate(sub(charge, 'outcome'), ['advice_code', 'network_status', 'reason', 'seller_message', 'type', 'risk_level', 'risk_score'] as const, { add: ['risk_level', 'risk_score'] }),
    refund: new ObjectTemplate(stripeSample('refund'), ['amount', 'balance_transaction', 'charge', 'created', 'currency', 'id', 'metadata', 'payment_intent', 'reason', 'status', 'customer', 'payment_method'] as const),
    dispute: new ObjectTemplate(stripeSample('dispute'), ['amount', 'balance_transactions', 'charge', 'created', 'currency', 'evidence_details', 'id', 'is_charge_refundable', 'livemode', 'metadata', 'payment_intent', 'payment_method_details', 'reason', 'status', 'enhanced_eligibility_types'] as const),
    creditNote: new ObjectTemplate(creditNote, [
      'amount', 'created', 'currency', 'customer', 'effective_at', 'id', 'invoice', 'lines', 'livemode', 'metadata', 'number', 'pdf',
      'reason', 'shipping_cost', 'status', 'subtotal', 'subtotal_excluding_tax', 'total', 'total_excluding_tax', 'type', 'voided_at',
      'pretax_credit_amounts', 'total_taxes', 'refunds', 'post_payment_amount', 'pre_payment_amount',
    ] as const),
    creditNoteLine: new ObjectTemplate(sub(creditNote, 'lines', 'data', 0), ['amount', 'description', 'id', 'invoice_line_item', 'livemode', 'tax_rates', 'pretax_credit_amounts'] as const),
    payout: new ObjectTemplate(stripeSample('payout'), ['amount', 'arrival_date', 'balance_transaction', 'created', 'currency', 'destination', 'failure_balance_transaction', 'failure_code', 'failure_message', 'id', 'livemode', 'metadata', 'reconciliation_status', 'status', 'trace_id'] as const),
    balanceTransaction: new ObjectTemplate(stripeSample('balance_transaction'), ['amount', 'available_on', 'created', 'currency', 'description', 'exchange_rate', 'fee', 'fee_details', 'id', 'net', 'reporting_category', 'source', 'status', 'type'] as const),
    transfer: new ObjectTemplate(stripeSample('transfer'), ['amount', 'amount_reversed', 'balance_transaction', 'created', 'currency', 'description', 'destination', 'destination_payment', 'id', 'livemode', 'metadata', 'reversals', 'transfer_group'] as const),
    applicationFee: new ObjectTemplate(stripeSample('application_fee'), ['account', 'amount', 'amount_refunded', 'application', 'balance_transaction', 'charge', 'created', 'currency', 'fee_source', 'id', 'livemode', 'refunded', 'refunds'] as const),
    account: new ObjectTemplate(stripeSample('account'), ['business_profile', 'business_type', 'charges_enabled', 'controller', 'country', 'created', 'default_currency', 'details_submitted', 'email', 'external_accounts', 'id', 'metadata', 'payouts_enabled', 'requirements', 'settings', 'type'] as const),
  };
}

// --- one renderer per object type --------------------------------------------------------------

function renderCustomer(c: RenderContext, r: CustomerRow): string {
  return templates().customer.render({
    address: r.address ? { city: r.address.city, country: r.address.country, line1: r.address.line1, line2: null, postal_code: r.address.postal_code, state: null } : null,
    created: r.created,
    currency: c.account.profile.currency,
    delinquent: r.delinquent,
    description: r.description,
    discount: null,
    email: r.email,
    id: r.id,
    invoice_prefix: r.invoicePrefix,
    livemode: c.account.livemode,
    metadata: r.metadata,
    name: r.name,
    phone: r.phone,
    shipping: null,
  });
}

function renderProduct(c: RenderContext, r: ProductRow): string {
  return templates().product.render({
    active: r.active,
    created: r.created,
    default_price: r.defaultPrice,
    description: r.description,
    id: r.id,
    livemode: c.account.livemode,
    metadata: r.metadata,
    name: r.name,
    package_dimensions: null,
    type: r.kind,
    updated: r.updated,
  });
}

function renderPrice(c: RenderContext, r: PriceRow): string {
  return templates().price.render({
    active: r.active,
    created: r.created,
    currency: c.account.profile.currency,
    custom_unit_amount: null,
    id: r.id,
    livemode: c.account.livemode,
    lookup_key: r.lookupKey,
    metadata: r.metadata,
    nickname: r.nickname,
    product: r.product,
    recurring: r.recurring
      ? { interval: r.recurring.interval, interval_count: r.recurring.intervalCount, meter: null, usage_type: 'licensed', trial_period_days: null }
      : null,
    transform_quantity: null,
    type: r.recurring ? 'recurring' : 'one_time',
    unit_amount: r.unitAmount,
    unit_amount_decimal: decimal(r.unitAmount),
  });
}

/** A price as the legacy `plan` object that subscription items still carry. */
function renderPlan(c: RenderContext, r: PriceRow): string {
  return templates().plan.render({
    active: r.active,
    amount: r.unitAmount,
    amount_decimal: decimal(r.unitAmount),
    billing_scheme: 'per_unit',
    created: r.created,
    currency: c.account.profile.currency,
    id: r.id,
    interval: r.recurring?.interval ?? 'month',
    interval_count: r.recurring?.intervalCount ?? 1,
    livemode: c.account.livemode,
    metadata: r.metadata,
    nickname: r.nickname,
    product: r.product,
    transform_usage: null,
  });
}

function renderCoupon(c: RenderContext, r: CouponRow): string {
  return templates().coupon.render({
    amount_off: r.amountOff,
    created: r.created,
    currency: r.amountOff !== null ? c.account.profile.currency : null,
    duration: r.duration,
    duration_in_months: r.durationInMonths,
    id: r.id,
    livemode: c.account.livemode,
    max_redemptions: r.maxRedemptions,
    metadata: r.metadata,
    name: r.name,
    percent_off: r.percentOff,
    redeem_by: null,
    times_redeemed: r.timesRedeemed,
    valid: r.valid,
  });
}

/** A subscription's discount as Stripe's Discount object (on the subscription, so on none of its items). */
function renderDiscount(c: RenderContext, s: SubscriptionRow, d: SubscriptionDiscount): string {
  const common = { customer: s.customer, end: d.end, id: d.id, start: d.start, subscription: s.id, subscription_item: null };
  if (c.era === 'current') return templates().discount.current.render({ ...common, source: new RawJson(`{"coupon":${toJson(d.coupon)},"type":"coupon"}`) });
  const coupon = c.account.get('coupons', d.coupon);
  return templates().discount.pre_basil.render({ ...common, coupon: coupon ? new RawJson(renderCoupon(c, coupon)) : null });
}

/**
 * The objects a row holds that no endpoint returns on their own (Stripe: "Discounts cannot be
 * fetched by ID"), rendered, by id: `expand[]` puts them in place of their ids.
 */
export function embeddedObjects(c: RenderContext, row: ObjectRow): ReadonlyMap<string, string> {
  if (row.stream !== 'subscriptions') return new Map();
  return new Map(row.discounts.map((d) => [d.id, renderDiscount(c, row, d)]));
}

function renderSubscriptionItem(c: RenderContext, s: SubscriptionRow, item: SubscriptionItem): string {
  const price = item.priceSnapshot;
  const common = {
    created: item.created,
    discounts: [],
    id: item.id,
    metadata: {},
    price: new RawJson(renderPrice(c, price)),
    plan: new RawJson(renderPlan(c, price)),
    quantity: item.quantity,
    subscription: s.id,
    billing_thresholds: null,
  };
  if (c.era === 'pre_basil') return templates().subscriptionItem.pre_basil.render(common);
  return templates().subscriptionItem.current.render({ ...common, current_period_end: s.currentPeriodEnd, current_period_start: s.currentPeriodStart });
}

/** `expandDiscounts`: the discounts as objects (`expand[]=discounts`), else their ids as Stripe sends them. */
function renderSubscription(c: RenderContext, s: SubscriptionRow, expandDiscounts = false): string {
  const items = s.items.map((item) => renderSubscriptionItem(c, s, item));
  const values = {
    application: null,
    application_fee_percent: null,
    billing_cycle_anchor: s.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    cancel_at: s.cancelAt,
    canceled_at: s.canceledAt,
    cancellation_details: new RawJson(`{"comment":null,"feedback":null,"reason":${toJson(s.cancellationReason)}}`),
    created: s.created,
    currency: c.account.profile.currency,
    customer: s.customer,
    discounts: expandDiscounts ? new RawJson(`[${s.discounts.map((d) => renderDiscount(c, s, d)).join(',')}]`) : s.discounts.map((d) => d.id),
    ended_at: s.endedAt,
    id: s.id,
    items: list(`/v1/subscription_items?subscription=${s.id}`, items, items.length),
    latest_invoice: s.latestInvoice,
    livemode: c.account.livemode,
    metadata: s.metadata,
    next_pending_invoice_item_invoice: null,
    pause_collection: null,
    pending_invoice_item_interval: null,
    pending_update: null,
    start_date: s.startDate,
    status: s.status,
    transfer_data: null,
    trial_end: s.trialEnd,
    trial_start: s.trialStart,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    billing_thresholds: null,
    billing_schedules: [],
  };
  if (c.era === 'pre_basil') {
    return templates().subscription.pre_basil.render({ ...values, current_period_end: s.currentPeriodEnd, current_period_start: s.currentPeriodStart });
  }
  return templates().subscription.current.render(values);
}

function renderInvoiceLine(c: RenderContext, inv: InvoiceRow, line: InvoiceLine): string {
  const price = c.account.get('prices', line.price);
  return templates().invoiceLine.render({
    amount: line.amount,
    currency: c.account.profile.currency,
    description: line.description,
    id: line.id,
    invoice: inv.id,
    livemode: c.account.livemode,
    period: new RawJson(`{"end":${line.periodEnd},"start":${line.periodStart}}`),
    quantity: line.quantity,
    subscription: inv.subscription,
    parent: new RawJson(
      `{"invoice_item_details":null,"subscription_item_details":{"invoice_item":null,"proration":false,"proration_details":{"credited_items":null},` +
        `"subscription":${toJson(inv.subscription)},"subscription_item":${toJson(line.subscriptionItem)}},"type":"subscription_item_details"}`,
    ),
    pricing: new RawJson(
      `{"price_details":{"price":"${line.price}","product":${toJson(price ? price.product : null)}},"type":"price_details","unit_amount_decimal":"${price ? price.unitAmount : line.amount}"}`,
    ),
    subtotal: line.amount,
    taxes: [],
    pretax_credit_amounts: [],
  });
}

const INVOICE_PAYMENT_SETTINGS = new RawJson('{"default_mandate":null,"payment_method_options":null,"payment_method_types":null}');

function renderInvoice(c: RenderContext, inv: InvoiceRow): string {
  const account = c.account;
  const customer = inv.customerDetails;
  const total = inv.subtotal - inv.discountAmount;
  const due = inv.status === 'paid' || inv.status === 'void' ? 0 : total - inv.amountPaid;
  const lines = inv.lines.slice(0, NESTED_LIST_LIMIT).map((line) => renderInvoiceLine(c, inv, line));
  const hosted = `https://invoice.stripe.com/i/${account.id}/${inv.id}`;
  const values = {
    account_country: account.profile.country,
    account_name: account.profile.businessName,
    amount_due: total,
    amount_paid: inv.amountPaid,
    amount_remaining: due,
    amount_overpaid: 0,
    attempt_count: inv.attemptCount,
    attempted: inv.attemptCount > 0,
    auto_advance: inv.status === 'open',
    billing_reason: inv.billingReason,
    created: inv.created,
    currency: account.profile.currency,
    customer: inv.customer,
    customer_address: customer.address ? address(customer.address) : null,
    customer_email: customer.email,
    customer_name: customer.name,
    customer_phone: customer.phone,
    customer_shipping: null,
    discounts: inv.couponId && inv.subscription ? [discountIdOf(inv.subscription)] : [],
    due_date: null,
    effective_at: inv.finalizedAt,
    ending_balance: inv.finalizedAt !== null ? 0 : null,
    from_invoice: null,
    hosted_invoice_url: hosted,
    id: inv.id,
    invoice_pdf: `${hosted}/pdf`,
    last_finalization_error: null,
    lines: list(`/v1/invoices/${inv.id}/lines`, lines, inv.lines.length),
    livemode: account.livemode,
    metadata: inv.metadata,
    next_payment_attempt: inv.nextPaymentAttempt,
    number: inv.number,
    payment_settings: INVOICE_PAYMENT_SETTINGS,
    period_end: inv.periodEnd,
    period_start: inv.periodStart,
    post_payment_credit_notes_amount: inv.postPaymentCreditNotesAmount,
    receipt_number: null,
    shipping_cost: null,
    shipping_details: null,
    status: inv.status,
    status_transitions: new RawJson(`{"finalized_at":${inv.finalizedAt},"marked_uncollectible_at":${inv.markedUncollectibleAt},"paid_at":${inv.paidAt},"voided_at":${inv.voidedAt}}`),
    subscription: inv.subscription,
    subtotal: inv.subtotal,
    subtotal_excluding_tax: inv.subtotal,
    total,
    total_discount_amounts: inv.discountAmount > 0 && inv.subscription ? [{ amount: inv.discountAmount, discount: discountIdOf(inv.subscription) }] : [],
    total_excluding_tax: total,
    webhooks_delivered_at: inv.created,
    total_pretax_credit_amounts: [],
    total_taxes: [],
  };
  if (c.era === 'pre_basil') {
    return templates().invoice.pre_basil.render({
      ...values,
      paid: inv.status === 'paid',
      paid_out_of_band: false,
      charge: inv.charge,
      payment_intent: inv.paymentIntent,
    });
  }
  return templates().invoice.current.render({
    ...values,
    parent: inv.subscription
      ? { quote_details: null, subscription_details: { metadata: {}, subscription: inv.subscription }, type: 'subscription_details' }
      : null,
  });
}

function renderPaymentIntent(c: RenderContext, r: PaymentIntentRow): string {
  const declined = r.lastErrorCode
    ? { type: 'card_error', code: r.lastErrorCode, decline_code: r.lastErrorCode === 'card_declined' ? 'generic_decline' : null, message: 'Your card was declined.', charge: r.latestCharge }
    : null;
  return templates().paymentIntent.render({
    amount: r.amount,
    amount_received: r.amountReceived,
    application: r.applicationFeeAmount !== null ? c.applicationId : null,
    application_fee_amount: r.applicationFeeAmount,
    canceled_at: r.canceledAt,
    cancellation_reason: r.cancellationReason,
    client_secret: `${r.id}_secret_${r.clientSecretSuffix}`,
    created: r.created,
    currency: c.account.profile.currency,
    customer: r.customer,
    description: r.description,
    id: r.id,
    last_payment_error: declined,
    latest_charge: r.latestCharge,
    livemode: c.account.livemode,
    metadata: r.metadata,
    next_action: null,
    payment_method: r.paymentMethod,
    payment_method_configuration_details: null,
    processing: null,
    shipping: null,
    status: r.status,
    transfer_data: null,
    managed_payments: null,
  });
}

const NO_ADDRESS = new RawJson('{"city":null,"country":null,"line1":null,"line2":null,"postal_code":null,"state":null}');

function address(a: CustomerRow['address']): TemplateValue {
  if (!a) return NO_ADDRESS;
  return new RawJson(`{"city":${JSON.stringify(a.city)},"country":"${a.country}","line1":${JSON.stringify(a.line1)},"line2":null,"postal_code":"${a.postal_code}","state":null}`);
}

function renderCharge(c: RenderContext, r: ChargeRow): string {
  const account = c.account;
  const t = templates();
  const succeeded = r.status === 'succeeded';
  const refunds = r.refunds.slice(0, NESTED_LIST_LIMIT).flatMap((id) => {
    const refund = account.get('refunds', id);
    return refund ? [renderRefund(c, refund)] : [];
  });
  const contact = r.billingDetails;
  const card = t.card.render({
    amount_authorized: succeeded ? r.amount : null,
    brand: r.card.brand,
    country: r.card.country,
    exp_month: r.card.expMonth,
    exp_year: r.card.expYear,
    fingerprint: r.card.fingerprint,
    funding: r.card.funding,
    installments: null,
    last4: r.card.last4,
    network: r.card.brand,
    overcapture: new RawJson(`{"maximum_amount_capturable":${r.amount},"status":"unavailable"}`),
    three_d_secure: null,
    wallet: null,
    authorization_code: succeeded ? String(100000 + (r.seq % 899999)) : null,
    regulated_status: 'unregulated',
  });
  const outcome = t.outcome.render(
    succeeded
      ? { advice_code: null, network_status: 'approved_by_network', reason: null, seller_message: 'Payment complete.', type: 'authorized', risk_level: r.riskScore > 75 ? 'elevated' : 'normal', risk_score: r.riskScore }
      : { advice_code: 'try_again_later', network_status: 'declined_by_network', reason: r.failureCode === 'card_declined' ? 'generic_decline' : r.failureCode, seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined', risk_level: 'normal', risk_score: r.riskScore },
  );
  return t.charge.render({
    amount: r.amount,
    amount_captured: succeeded ? r.amount : 0,
    amount_refunded: r.amountRefunded,
    application: r.applicationFee ? c.applicationId : null,
    application_fee: r.applicationFee,
    application_fee_amount: r.applicationFeeAmount,
    balance_transaction: r.balanceTransaction,
    billing_details: new RawJson(t.billingDetails.render({ address: address(contact.address), email: contact.email, name: contact.name, phone: contact.phone })),
    calculated_statement_descriptor: statementDescriptor(account),
    captured: succeeded,
    created: r.created,
    currency: account.profile.currency,
    customer: r.customer,
    description: r.description,
    disputed: r.disputed,
    failure_code: r.failureCode,
    failure_message: r.failureMessage,
    id: r.id,
    livemode: account.livemode,
    metadata: r.metadata,
    outcome: new RawJson(outcome),
    paid: succeeded,
    payment_intent: r.paymentIntent,
    payment_method: r.paymentMethod,
    payment_method_details: new RawJson(`{"card":${card},"type":"card"}`),
    receipt_email: contact.email,
    receipt_number: r.receiptNumber,
    receipt_url: succeeded ? `https://pay.stripe.com/receipts/payment/${r.id}` : null,
    refunded: r.amountRefunded >= r.amount && r.amount > 0,
    refunds: list(`/v1/charges/${r.id}/refunds`, refunds, r.refunds.length),
    shipping: null,
    source: null,
    status: r.status,
    transfer_data: null,
  });
}

const descriptors = new WeakMap<AccountState, string>();
function statementDescriptor(account: AccountState): string {
  let descriptor = descriptors.get(account);
  if (descriptor === undefined) {
    descriptor = account.profile.businessName.toUpperCase().replace(/[^A-Z0-9 ]/g, '').slice(0, 22);
    descriptors.set(account, descriptor);
  }
  return descriptor;
}

function renderRefund(c: RenderContext, r: RefundRow): string {
  const charge = c.account.get('charges', r.charge);
  return templates().refund.render({
    amount: r.amount,
    balance_transaction: r.balanceTransaction,
    charge: r.charge,
    created: r.created,
    currency: c.account.profile.currency,
    id: r.id,
    metadata: r.metadata,
    payment_intent: r.paymentIntent,
    reason: r.reason,
    status: r.status,
    customer: charge ? charge.customer : null,
    payment_method: charge ? charge.paymentMethod : null,
  });
}

function renderDispute(c: RenderContext, r: DisputeRow): string {
  const txns = r.balanceTransactions.flatMap((id) => {
    const txn = c.account.get('balance_transactions', id);
    return txn ? [renderBalanceTransaction(c, txn)] : [];
  });
  const closed = r.status === 'won' || r.status === 'lost';
  return templates().dispute.render({
    amount: r.amount,
    balance_transactions: new RawJson(`[${txns.join(',')}]`),
    charge: r.charge,
    created: r.created,
    currency: c.account.profile.currency,
    evidence_details: { due_by: closed ? null : r.evidenceDueBy, has_evidence: r.hasEvidence, past_due: false, submission_count: r.submissionCount, enhanced_eligibility: {} },
    id: r.id,
    is_charge_refundable: false,
    livemode: c.account.livemode,
    metadata: r.metadata,
    payment_intent: r.paymentIntent,
    payment_method_details: { card: { brand: r.network, case_type: 'chargeback', network_reason_code: '10.4', network: r.network }, type: 'card' },
    reason: r.reason,
    status: r.status,
    enhanced_eligibility_types: [],
  });
}

function renderCreditNote(c: RenderContext, r: CreditNoteRow): string {
  const line = templates().creditNoteLine.render({
    amount: r.amount,
    description: 'Credit for refund',
    id: r.lineId,
    invoice_line_item: r.invoiceLine,
    livemode: c.account.livemode,
    tax_rates: [],
    pretax_credit_amounts: [],
  });
  return templates().creditNote.render({
    amount: r.amount,
    created: r.created,
    currency: c.account.profile.currency,
    customer: r.customer,
    effective_at: r.created,
    id: r.id,
    invoice: r.invoice,
    lines: list(`/v1/credit_notes/${r.id}/lines`, [line], 1),
    livemode: c.account.livemode,
    metadata: r.metadata,
    number: r.number,
    pdf: `https://pay.stripe.com/credit_notes/${c.account.id}/${r.id}/pdf`,
    reason: r.reason,
    shipping_cost: null,
    status: r.status,
    subtotal: r.amount,
    subtotal_excluding_tax: r.amount,
    total: r.amount,
    total_excluding_tax: r.amount,
    type: r.type,
    voided_at: r.voidedAt,
    pretax_credit_amounts: [],
    total_taxes: [],
    refunds: r.refund ? [{ amount_refunded: r.amount, refund: r.refund, payment_record_refund: null, type: 'refund' }] : [],
    post_payment_amount: r.type === 'post_payment' ? r.amount : 0,
    pre_payment_amount: r.type === 'pre_payment' ? r.amount : 0,
  });
}

function renderPayout(c: RenderContext, r: PayoutRow): string {
  return templates().payout.render({
    amount: r.amount,
    arrival_date: r.arrivalDate,
    balance_transaction: r.balanceTransaction,
    created: r.created,
    currency: c.account.profile.currency,
    destination: r.destination,
    failure_balance_transaction: r.failureBalanceTransaction,
    failure_code: r.failureCode,
    failure_message: r.failureMessage,
    id: r.id,
    livemode: c.account.livemode,
    metadata: r.metadata,
    reconciliation_status: r.reconciliationStatus,
    status: r.status,
    trace_id: { status: r.status === 'paid' ? 'supported' : 'pending', value: null },
  });
}

function renderBalanceTransaction(c: RenderContext, r: BalanceTransactionRow): string {
  const currency = c.account.profile.currency;
  return templates().balanceTransaction.render({
    amount: r.amount,
    available_on: r.availableOn,
    created: r.created,
    currency,
    description: r.description,
    exchange_rate: r.exchangeRate,
    fee: r.fee,
    fee_details: r.feeDetails.map((d) => ({ amount: d.amount, application: d.application, currency, description: d.description, type: d.type })),
    id: r.id,
    net: r.net,
    reporting_category: r.reportingCategory,
    source: r.source,
    // Funds become available with time, with no event: Stripe's balance transactions do this too.
    status: r.availableOn <= c.now ? 'available' : 'pending',
    type: r.type,
  });
}

function renderTransfer(c: RenderContext, r: TransferRow): string {
  return templates().transfer.render({
    amount: r.amount,
    amount_reversed: r.amountReversed,
    balance_transaction: r.balanceTransaction,
    created: r.created,
    currency: c.account.profile.currency,
    description: r.description,
    destination: r.destination,
    destination_payment: r.destinationPayment,
    id: r.id,
    livemode: c.account.livemode,
    metadata: r.metadata,
    reversals: list(`/v1/transfers/${r.id}/reversals`, [], 0),
    transfer_group: r.transferGroup,
  });
}

function renderApplicationFee(c: RenderContext, r: ApplicationFeeRow): string {
  return templates().applicationFee.render({
    account: r.account,
    amount: r.amount,
    amount_refunded: r.amountRefunded,
    application: c.applicationId,
    balance_transaction: r.balanceTransaction,
    charge: r.charge,
    created: r.created,
    currency: r.currency,
    fee_source: { charge: r.charge, type: 'charge' },
    id: r.id,
    livemode: c.account.livemode,
    refunded: r.amountRefunded > 0,
    refunds: list(`/v1/application_fees/${r.id}/refunds`, [], 0),
  });
}

/** A connected account as the platform sees it, or the platform itself (`GET /v1/account`). */
export function renderAccount(account: AccountState, row: AccountRow | null): string {
  const profile = account.profile;
  const created = row ? row.created : profile.createdAt;
  const slug = profile.businessName.toLowerCase().replace(/[^a-z]+/g, '-');
  return templates().account.render({
    business_profile: {
      annual_revenue: null,
      estimated_worker_count: null,
      mcc: '5734',
      name: profile.businessName,
      product_description: null,
      support_address: null,
      support_email: row ? row.email : `support@${slug}.example.com`,
      support_phone: null,
      support_url: null,
      url: `https://${slug}.example.com`,
      minority_owned_business_designation: null,
    },
    business_type: 'company',
    charges_enabled: row ? row.chargesEnabled : true,
    controller: row && row.type !== 'standard' ? { type: 'application', is_controller: true } : { type: 'account' },
    country: profile.country,
    created,
    default_currency: profile.currency,
    details_submitted: row ? row.detailsSubmitted : true,
    email: row ? row.email : `owner@${slug}.example.com`,
    external_accounts: list(`/v1/accounts/${account.id}/external_accounts`, [], 0),
    id: account.id,
    metadata: row ? row.metadata : {},
    payouts_enabled: row ? row.payoutsEnabled : true,
    requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
    settings: {
      bacs_debit_payments: { display_name: null, service_user_number: null },
      branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
      card_issuing: { tos_acceptance: { date: null, ip: null } },
      card_payments: { decline_on: { avs_failure: false, cvc_failure: true }, statement_descriptor_prefix: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
      dashboard: { display_name: profile.businessName, timezone: 'Etc/UTC' },
      invoices: { default_account_tax_ids: null, hosted_payment_method_save: 'offer' },
      payments: { statement_descriptor: profile.businessName.toUpperCase().slice(0, 22), statement_descriptor_kana: null, statement_descriptor_kanji: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
      payouts: { debit_negative_balances: true, schedule: { delay_days: profile.payoutDelayDays, interval: profile.payoutInterval }, statement_descriptor: null },
      sepa_debit_payments: {},
    },
    type: row ? row.type : 'standard',
  });
}

// --- dispatch ---------------------------------------------------------------------------------

// Renderings are kept on their rows as UTF-8 bytes and reused until the row changes, the clock
// moves (a balance transaction's status depends on the time) or the budget is spent: tests and
// benchmarks read the same objects many times, and bytes are what the server sends.
const RENDER_CACHE_BUDGET = 256 * 1024 * 1024;
let cachedBytes = 0;
let renderEpoch = 0;

/** Makes every kept rendering stale: called when the simulated clock moves. */
export function clockMoved(): void {
  renderEpoch++;
}

/** Drops a row's kept rendering: called on every change to the row. */
export function forgetRendering(row: AnyRow): void {
  if (row.rendered) cachedBytes -= row.rendered.json.length;
  row.rendered = undefined;
}

export function renderObject(c: RenderContext, row: ObjectRow): string {
  return renderFresh(c, row);
}

// Kept renderings are written into large shared slabs: one allocation per megabytes instead of one
// per object keeps the garbage collector out of the way.
const SLAB_SIZE = 4 * 1024 * 1024;
let slab = Buffer.allocUnsafe(0);
let slabUsed = 0;

function toBytes(json: string): Buffer {
  const worstCase = json.length * 3;
  if (worstCase > SLAB_SIZE / 4) return Buffer.from(json);
  if (slabUsed + worstCase > slab.length) {
    slab = Buffer.allocUnsafe(SLAB_SIZE);
    slabUsed = 0;
  }
  const written = slab.write(json, slabUsed, 'utf8');
  const bytes = slab.subarray(slabUsed, slabUsed + written);
  slabUsed += written;
  return bytes;
}

/**
 * The object as UTF-8 JSON, from the kept rendering when it is still good. A rendering is kept
 * only when the object is rendered a second time: a single pass over a large world (a backfill)
 * then leaves nothing behind for the garbage collector to trace, which keeps its pauses short.
 */
export function renderObjectBytes(c: RenderContext, row: ObjectRow): Buffer {
  const key = renderEpoch * 2 + (c.era === 'current' ? 1 : 0);
  const kept = row.rendered;
  if (kept && kept.key === key) return kept.json;
  const renderedBefore = row.lastRenderKey === key;
  row.lastRenderKey = key;
  if (!renderedBefore) return Buffer.from(renderFresh(c, row));
  const json = toBytes(renderFresh(c, row));
  if (kept) cachedBytes -= kept.json.length;
  if (cachedBytes < RENDER_CACHE_BUDGET) {
    row.rendered = { key, json };
    cachedBytes += json.length;
  } else {
    row.rendered = undefined;
  }
  return json;
}

function renderFresh(c: RenderContext, row: ObjectRow): string {
  switch (row.stream) {
    case 'customers': return renderCustomer(c, row);
    case 'products': return renderProduct(c, row);
    case 'prices': return renderPrice(c, row);
    case 'coupons': return renderCoupon(c, row);
    case 'subscriptions': return renderSubscription(c, row);
    case 'invoices': return renderInvoice(c, row);
    case 'payment_intents': return renderPaymentIntent(c, row);
    case 'charges': return renderCharge(c, row);
    case 'refunds': return renderRefund(c, row);
    case 'disputes': return renderDispute(c, row);
    case 'credit_notes': return renderCreditNote(c, row);
    case 'payouts': return renderPayout(c, row);
    case 'balance_transactions': return renderBalanceTransaction(c, row);
    case 'transfers': return renderTransfer(c, row);
    case 'application_fees': return renderApplicationFee(c, row);
  }
}

/**
 * A subscription as the connector reads it (`expand[]=data.discounts`): the truth shows it so,
 * since that is what the warehouse should hold.
 */
export function renderSubscriptionExpanded(c: RenderContext, s: SubscriptionRow): string {
  return renderSubscription(c, s, true);
}

/** Renders any row: objects of an account's streams, or a connected account. */
export function renderRow(c: RenderContext, row: AnyRow, accountOfRow?: AccountState): string {
  if (row.stream === 'accounts') {
    if (!accountOfRow) throw new Error('rendering an account needs its account state');
    return renderAccount(accountOfRow, row);
  }
  return renderObject(c, row);
}

/** What Stripe returns for a deleted object (`GET /v1/customers/:id` after deletion). */
export function renderDeletedStub(row: ObjectRow): string {
  return `{"id":${JSON.stringify(row.id)},"object":${JSON.stringify(OBJECT_TYPES[row.stream])},"deleted":true}`;
}

/**
 * An event, rendered once at its own API version: events never change. `previous_attributes`
 * holds the top-level fields that the change altered, with their old values.
 */
export function renderEvent(c: Omit<RenderContext, 'era'>, event: EventRecord, accountOfObject?: AccountState): string {
  if (event.json !== undefined) return event.json;
  const json = renderEventFresh(c, event, event.apiVersion, accountOfObject);
  event.json = json;
  return json;
}

/**
 * An event rendered at `version` (a webhook endpoint's): its own rendering when the versions
 * agree, else a fresh one that is not kept, so that `/v1/events` keeps showing the event's own.
 */
export function renderEventAt(c: Omit<RenderContext, 'era'>, event: EventRecord, version: string, accountOfObject?: AccountState): string {
  return version === event.apiVersion ? renderEvent(c, event, accountOfObject) : renderEventFresh(c, event, version, accountOfObject);
}

function renderEventFresh(c: Omit<RenderContext, 'era'>, event: EventRecord, version: string, accountOfObject?: AccountState): string {
  const ctx: RenderContext = { ...c, era: eraOf(version) };
  const after = renderRow(ctx, event.snapshot, accountOfObject);
  let data = `{"object":${after}`;
  if (event.previous) {
    const before = renderRow(ctx, { ...event.snapshot, ...event.previous } as AnyRow, accountOfObject);
    const afterFields = JSON.parse(after) as Record<string, unknown>;
    const beforeFields = JSON.parse(before) as Record<string, unknown>;
    const changed: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(beforeFields)) {
      if (JSON.stringify(value) !== JSON.stringify(afterFields[key])) changed[key] = value;
    }
    data += `,"previous_attributes":${JSON.stringify(changed)}`;
  }
  data += '}';
  const account = c.account.isPlatform ? '' : `"account":${JSON.stringify(c.account.id)},`;
  const request = `{"id":${JSON.stringify(event.requestId)},"idempotency_key":${event.requestId ? JSON.stringify(`${event.requestId.slice(4)}-key`) : 'null'}}`;
  return (
    `{${account}"api_version":${JSON.stringify(version)},"created":${event.created},"data":${data},` +
    `"id":${JSON.stringify(event.id)},"livemode":${c.account.livemode},"object":"event","pending_webhooks":0,` +
    `"request":${request},"type":${JSON.stringify(event.type)}}`
  );
}

export type { TemplateValue };
