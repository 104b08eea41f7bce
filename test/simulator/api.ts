// The Stripe REST API over the simulated world: list and retrieve for every stream, events,
// accounts. Handlers take a parsed request and return JSON text, or throw StripeApiError.
import { authorize, type ApiKey, type Resource } from './auth.js';
import { errors } from './errors.js';
import { OBJECT_TYPES, embeddedObjects, eraOf, renderAccount, renderDeletedStub, renderEvent, renderObject, renderObjectBytes, type RenderContext } from './render.js';
import type { AccountRow, ObjectRow, ObjectStreamName, RowOf, SubscriptionRow } from './rows.js';
import type { AccountState, EventRecord } from './store.js';
import type { ModeWorld } from './world.js';

export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };
export type Query = Readonly<Record<string, QueryValue>>;

export interface ApiRequest {
  readonly key: ApiKey;
  readonly modeWorld: ModeWorld;
  readonly account: AccountState;
  /** True when the request acts for a connected account through Stripe-Account. */
  readonly viaConnect: boolean;
  readonly version: string;
  /** The request's parameters: the query string of a GET or DELETE, the form-encoded body of a POST. */
  readonly query: Query;
  readonly id?: string;
}

// --- parameters -------------------------------------------------------------------------------

/** An API version as Stripe writes it: `2024-06-20` or `2026-10-28.endive`. */
export const VERSION_FORMAT = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

const PAGINATION_PARAMS = new Set(['limit', 'starting_after', 'ending_before', 'created', 'expand']);

export function asString(param: string, value: QueryValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw errors.invalidParameter(param, `Invalid ${param}: must be a string`, 'parameter_invalid_string');
  return value;
}

function asInteger(param: string, value: QueryValue): number {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw errors.invalidParameter(param, `Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return Number(value);
}

export function asBoolean(param: string, value: QueryValue): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw errors.invalidParameter(param, `Invalid boolean: ${typeof value === 'string' ? value : JSON.stringify(value)}`, 'parameter_invalid_boolean');
}

export function asList(param: string, value: QueryValue): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? [value] : Object.values(value);
  if (!items.every((v): v is string => typeof v === 'string')) throw errors.invalidParameter(param, `Invalid array: ${param}`, 'parameter_invalid_array');
  return items;
}

/** `created`-style ranges: an exact integer or any of gt, gte, lt, lte; returns inclusive bounds. */
export function parseRange(param: string, value: QueryValue | undefined): { min: number; max: number } {
  let min = -Infinity;
  let max = Infinity;
  if (value === undefined) return { min, max };
  if (typeof value === 'string') {
    const exact = asInteger(param, value);
    return { min: exact, max: exact };
  }
  if (Array.isArray(value)) throw errors.invalidParameter(param, `Invalid ${param}: must be an integer or a hash of gt, gte, lt, lte`, 'parameter_invalid_integer');
  for (const [op, raw] of Object.entries(value)) {
    const n = asInteger(`${param}[${op}]`, raw);
    if (op === 'gt') min = Math.max(min, n + 1);
    else if (op === 'gte') min = Math.max(min, n);
    else if (op === 'lt') max = Math.min(max, n - 1);
    else if (op === 'lte') max = Math.min(max, n);
    else throw errors.unknownParameter(`${param}[${op}]`);
  }
  return { min, max };
}

function parseLimit(value: QueryValue | undefined): number {
  if (value === undefined) return 10;
  const limit = asInteger('limit', value);
  if (limit < 1) throw errors.invalidParameter('limit', 'This value must be greater than or equal to 1.');
  if (limit > 100) throw errors.invalidParameter('limit', 'This value must be less than or equal to 100.');
  return limit;
}

export function parseExpand(value: QueryValue | undefined): string[] {
  return value === undefined ? [] : asList('expand', value);
}

// --- filters ------------------------------------------------------------------------------------

type Predicate<R> = (row: R) => boolean;
type FilterFactory<R> = (value: QueryValue, param: string, request: ApiRequest) => Predicate<R>;

const eq = <R>(get: (row: R) => string | null): FilterFactory<R> => (value, param) => {
  const wanted = asString(param, value);
  return (row) => get(row) === wanted;
};
const bool = <R>(get: (row: R) => boolean): FilterFactory<R> => (value, param) => {
  const wanted = asBoolean(param, value);
  return (row) => get(row) === wanted;
};
const range = <R>(get: (row: R) => number | null): FilterFactory<R> => (value, param) => {
  const { min, max } = parseRange(param, value);
  return (row) => {
    const v = get(row);
    return v !== null && v >= min && v <= max;
  };
};
const oneOf = <R>(get: (row: R) => string | null): FilterFactory<R> => (value, param) => {
  const wanted = new Set(asList(param, value));
  return (row) => wanted.has(get(row) ?? '');
};
const currency = <R>(): FilterFactory<R> => (value, param, request) => {
  const wanted = asString(param, value);
  return () => request.account.profile.currency === wanted;
};
/** Objects never match a filter on something the simulator has none of (test clocks, groups). */
const never = <R>(): FilterFactory<R> => (value, param) => {
  asString(param, value);
  return () => false;
};

const SUBSCRIPTION_STATUSES = ['all', 'active', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'];

const subscriptionStatus: FilterFactory<SubscriptionRow> = (value, param) => {
  const wanted = asString(param, value) ?? '';
  if (!SUBSCRIPTION_STATUSES.includes(wanted)) {
    throw errors.invalidParameter('status', `Invalid status: must be one of ${SUBSCRIPTION_STATUSES.join(', ')}`, 'parameter_invalid_string');
  }
  if (wanted === 'all') return () => true;
  if (wanted === 'ended') return (row) => row.status === 'canceled' || row.status === 'incomplete_expired';
  return (row) => row.status === wanted;
};

type StreamFilters = { [S in ObjectStreamName]: Readonly<Record<string, FilterFactory<RowOf<S>>>> };

/** The filters each list endpoint takes besides pagination, as Stripe documents them. */
const LIST_FILTERS: StreamFilters = {
  customers: { email: eq((r) => r.email), test_clock: never() },
  products: {
    active: bool((r) => r.active),
    ids: oneOf((r) => r.id),
    shippable: bool(() => false),
    type: eq((r) => r.kind),
    url: never(),
  },
  prices: {
    active: bool((r) => r.active),
    currency: currency(),
    product: eq((r) => r.product),
    type: eq((r) => (r.recurring ? 'recurring' : 'one_time')),
    lookup_keys: oneOf((r) => r.lookupKey),
    recurring: never(),
  },
  coupons: {},
  subscriptions: {
    customer: eq((r) => r.customer),
    price: eq((r) => (r.items[0] ? r.items[0].price : null)),
    status: subscriptionStatus,
    collection_method: eq(() => 'charge_automatically'),
    current_period_start: range((r) => r.currentPeriodStart),
    current_period_end: range((r) => r.currentPeriodEnd),
    test_clock: never(),
  },
  invoices: {
    customer: eq((r) => r.customer),
    status: eq((r) => r.status),
    subscription: eq((r) => r.subscription),
    collection_method: eq(() => 'charge_automatically'),
    due_date: range(() => null),
  },
  payment_intents: { customer: eq((r) => r.customer) },
  charges: {
    customer: eq((r) => r.customer),
    payment_intent: eq((r) => r.paymentIntent),
    transfer_group: never(),
  },
  refunds: { charge: eq((r) => r.charge), payment_intent: eq((r) => r.paymentIntent) },
  disputes: { charge: eq((r) => r.charge), payment_intent: eq((r) => r.paymentIntent) },
  credit_notes: { customer: eq((r) => r.customer), invoice: eq((r) => r.invoice) },
  payouts: {
    arrival_date: range((r) => r.arrivalDate),
    destination: eq((r) => r.destination),
    status: eq((r) => r.status),
  },
  balance_transactions: {
    currency: currency(),
    payout: eq((r) => r.payout),
    source: eq((r) => r.source),
    type: eq((r) => r.type),
  },
  transfers: { destination: eq((r) => r.destination), transfer_group: eq((r) => r.transferGroup) },
  application_fees: { charge: eq((r) => r.charge) },
};

/** What a list shows by default: subscriptions hide canceled ones unless a status is asked for. */
function defaultVisibility(stream: ObjectStreamName, query: Query): Predicate<ObjectRow> {
  if (stream === 'subscriptions' && query.status === undefined) {
    return (row) => (row as SubscriptionRow).status !== 'canceled';
  }
  return () => true;
}

// --- pagination -----------------------------------------------------------------------------

interface Ordered {
  readonly id: string;
  readonly created: number;
  readonly seq: number;
}

function lowerBound(rows: readonly Ordered[], created: number, seq: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const row = rows[mid] as Ordered;
    if (row.created < created || (row.created === created && row.seq < seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of `rows` (sorted oldest first) in Stripe's order, newest first, after or before a
 * cursor, within a created range, keeping only rows that `accept`.
 */
export function paginate<R extends Ordered>(
  rows: readonly R[],
  options: {
    limit: number;
    created: { min: number; max: number };
    startingAfter?: R;
    endingBefore?: R;
    accept: Predicate<R>;
  },
): { page: R[]; hasMore: boolean } {
  const lo = lowerBound(rows, options.created.min, -Infinity);
  const hi = lowerBound(rows, options.created.max + 1, -Infinity);
  const page: R[] = [];
  if (options.endingBefore) {
    // Walk towards newer objects from the cursor, then present them newest first.
    let i = Math.max(lo, lowerBound(rows, options.endingBefore.created, options.endingBefore.seq) + 1);
    for (; i < hi && page.length < options.limit; i++) {
      const row = rows[i] as R;
      if (options.accept(row)) page.push(row);
    }
    let hasMore = false;
    for (; i < hi && !hasMore; i++) hasMore = options.accept(rows[i] as R);
    return { page: page.reverse(), hasMore };
  }
  let i = options.startingAfter
    ? Math.min(hi, lowerBound(rows, options.startingAfter.created, options.startingAfter.seq)) - 1
    : hi - 1;
  for (; i >= lo && page.length < options.limit; i--) {
    const row = rows[i] as R;
    if (options.accept(row)) page.push(row);
  }
  let hasMore = false;
  for (; i >= lo && !hasMore; i--) hasMore = options.accept(rows[i] as R);
  return { page, hasMore };
}

export function listJson(url: string, items: readonly string[], hasMore: boolean): string {
  return `{"object":"list","data":[${items.join(',')}],"has_more":${hasMore},"url":${JSON.stringify(url)}}`;
}

/** Refuses any parameter that is neither in `allowed` nor in `always` (by default, a list's pagination). */
export function checkParams(query: Query, allowed: ReadonlySet<string> | readonly string[], always: ReadonlySet<string> = PAGINATION_PARAMS): void {
  const set = allowed instanceof Set ? allowed : new Set(allowed);
  for (const name of Object.keys(query)) {
    if (!always.has(name) && !set.has(name)) throw errors.unknownParameter(name);
  }
}

function renderContext(request: ApiRequest): RenderContext {
  return {
    account: request.account,
    era: eraOf(request.version),
    now: request.modeWorld.now,
    applicationId: request.modeWorld.business.applicationId,
  };
}

/** A cursor (`starting_after`/`ending_before`) must name an object of the same list. */
function cursor<R extends Ordered>(param: string, value: QueryValue | undefined, find: (id: string) => R | undefined, objectType: string): R | undefined {
  const id = asString(param, value);
  if (id === undefined) return undefined;
  const row = find(id);
  if (!row) throw errors.noSuchObject(objectType, id, param, null, 400);
  return row;
}

export function pageOptions<R extends Ordered>(query: Query, find: (id: string) => R | undefined, objectType: string, accept: Predicate<R>) {
  if (query.starting_after !== undefined && query.ending_before !== undefined) {
    throw errors.invalidParameter('ending_before', 'You may only specify one of these parameters: ending_before, starting_after.', 'parameter_invalid_string');
  }
  return {
    limit: parseLimit(query.limit),
    created: parseRange('created', query.created),
    startingAfter: cursor('starting_after', query.starting_after, find, objectType),
    endingBefore: cursor('ending_before', query.ending_before, find, objectType),
    accept,
  };
}

// --- handlers -------------------------------------------------------------------------------

export function listObjects(request: ApiRequest, stream: ObjectStreamName): string | Buffer {
  authorize(request.key, stream as Resource, 'read', request.account.id, request.viaConnect);
  const filters = LIST_FILTERS[stream] as Readonly<Record<string, FilterFactory<ObjectRow>>>;
  checkParams(request.query, Object.keys(filters));
  const predicates: Predicate<ObjectRow>[] = [defaultVisibility(stream, request.query)];
  for (const [param, factory] of Object.entries(filters)) {
    const value = request.query[param];
    if (value !== undefined) predicates.push(factory(value, param, request));
  }
  const accept = (row: ObjectRow) => !row.deleted && predicates.every((p) => p(row));
  const index = request.account.streams[stream] as unknown as { rows: ObjectRow[] };
  const objectType = OBJECT_TYPES[stream];
  const find = (id: string) => request.account.get(stream, id) as ObjectRow | undefined;
  const { page, hasMore } = paginate(index.rows, pageOptions(request.query, find, objectType, accept));
  const ctx = renderContext(request);
  const expand = parseExpand(request.query.expand);
  if (expand.length > 0) {
    return listJson(`/v1/${stream}`, page.map((row) => expandObject(request, row, renderObject(ctx, row), expand, true)), hasMore);
  }
  // The fast path: kept renderings, joined as bytes.
  const parts: Buffer[] = [LIST_START];
  page.forEach((row, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(renderObjectBytes(ctx, row));
  });
  parts.push(Buffer.from(`],"has_more":${hasMore},"url":"/v1/${stream}"}`));
  return Buffer.concat(parts);
}

const LIST_START = Buffer.from('{"object":"list","data":[');
const COMMA = Buffer.from(',');

export function retrieveObject(request: ApiRequest, stream: ObjectStreamName): string {
  authorize(request.key, stream as Resource, 'read', request.account.id, request.viaConnect);
  checkParams(request.query, []);
  const id = request.id as string;
  const row = request.account.get(stream, id);
  const objectType = OBJECT_TYPES[stream];
  if (!row) throw noSuchObject(request, objectType, id);
  // A deleted customer can still be retrieved, as a stub; other deleted objects are gone.
  if (row.deleted) {
    if (stream === 'customers') return renderDeletedStub(row);
    throw noSuchObject(request, objectType, id);
  }
  return expandObject(request, row, renderObject(renderContext(request), row), parseExpand(request.query.expand), false);
}

function noSuchObject(request: ApiRequest, objectType: string, id: string) {
  const otherMode = request.modeWorld.world.existsInOtherMode(request.modeWorld.mode, id)
    ? request.modeWorld.mode === 'test' ? 'live' : 'test'
    : null;
  return errors.noSuchObject(objectType, id, 'id', otherMode);
}

const EVENT_TYPE_LIMIT = 20;

export function listEvents(request: ApiRequest): string {
  authorize(request.key, 'events', 'read', request.account.id, request.viaConnect);
  const query = request.query;
  checkParams(query, ['type', 'types', 'delivery_success']);
  if (query.type !== undefined && query.types !== undefined) {
    throw errors.invalidParameter('types', 'You may only specify one of these parameters: type, types.', 'parameter_invalid_string');
  }
  let accept: Predicate<EventRecord> = () => true;
  if (query.type !== undefined) {
    const pattern = asString('type', query.type) as string;
    const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    accept = (event) => regex.test(event.type);
  } else if (query.types !== undefined) {
    const types = asList('types', query.types);
    if (types.length > EVENT_TYPE_LIMIT) throw errors.invalidParameter('types', `You may pass at most ${EVENT_TYPE_LIMIT} types.`, 'parameter_invalid_array');
    const wanted = new Set(types);
    accept = (event) => wanted.has(event.type);
  }
  // Deliveries are not tracked per event (pending_webhooks stays 0), so delivery_success only needs to be valid.
  if (query.delivery_success !== undefined) asBoolean('delivery_success', query.delivery_success);
  const account = request.account;
  const retainedSince = request.modeWorld.now - 30 * 86_400;
  const visible = (event: EventRecord) => event.created >= retainedSince && accept(event);
  const find = (id: string) => account.eventsById.get(id);
  const { page, hasMore } = paginate(account.events, pageOptions(query, find, 'event', visible));
  const ctx = renderContext(request);
  return listJson('/v1/events', page.map((event) => renderEvent(ctx, event, account)), hasMore);
}

export function retrieveEvent(request: ApiRequest): string {
  authorize(request.key, 'events', 'read', request.account.id, request.viaConnect);
  checkParams(request.query, []);
  const id = request.id as string;
  const event = request.account.eventsById.get(id);
  if (!event || event.created < request.modeWorld.now - 30 * 86_400) throw noSuchObject(request, 'event', id);
  return renderEvent(renderContext(request), event, request.account);
}

/** `GET /v1/account`: the account the request acts for. */
export function retrieveOwnAccount(request: ApiRequest): string {
  authorize(request.key, 'account', 'read', request.account.id, request.viaConnect);
  checkParams(request.query, []);
  return renderAccount(request.account, request.account.accountRow);
}

/** `GET /v1/accounts`: the platform's connected accounts (none for a connected account). */
export function listAccounts(request: ApiRequest): string {
  authorize(request.key, 'accounts', 'read', request.account.id, request.viaConnect);
  checkParams(request.query, []);
  const modeWorld = request.modeWorld;
  const rows: readonly AccountRow[] = request.account.isPlatform ? modeWorld.accountIndex.rows : [];
  const accept = (row: AccountRow) => modeWorld.reachableAccount(row.id) !== undefined;
  const find = (id: string) => rows.find((row) => row.id === id);
  const { page, hasMore } = paginate(rows, pageOptions(request.query, find, 'account', accept));
  const items = page.map((row) => renderAccount(modeWorld.connected.get(row.id) as AccountState, row));
  return listJson('/v1/accounts', items, hasMore);
}

export function retrieveAccount(request: ApiRequest): string {
  authorize(request.key, 'accounts', 'read', request.account.id, request.viaConnect);
  checkParams(request.query, []);
  const id = request.id as string;
  if (id === request.account.id) return renderAccount(request.account, request.account.accountRow);
  const target = request.account.isPlatform ? request.modeWorld.reachableAccount(id) : undefined;
  if (!target) throw errors.accountInvalid(request.key.key, id);
  return renderAccount(target, target.accountRow);
}

// --- expand -----------------------------------------------------------------------------------

const MAX_EXPAND_DEPTH = 4;

/** What an id may name in an expansion: the request's objects, and those the expanded row holds (its discounts). */
interface ExpandScope {
  readonly request: ApiRequest;
  readonly embedded: ReadonlyMap<string, string>;
}

/**
 * Replaces ids named by `expand[]` paths with the objects they name; a path to a list of ids
 * (a subscription's `discounts`) expands each of them, as Stripe's does.
 */
function expandObject(request: ApiRequest, row: ObjectRow, json: string, paths: readonly string[], inList: boolean): string {
  if (paths.length === 0) return json;
  const object = JSON.parse(json) as Record<string, unknown>;
  const scope: ExpandScope = { request, embedded: embeddedObjects(renderContext(request), row) };
  for (const path of paths) {
    const steps = path.split('.');
    if (inList) {
      if (steps[0] !== 'data' || steps.length < 2) throw errors.cannotExpand(path);
      steps.shift();
    }
    if (steps.length > MAX_EXPAND_DEPTH) throw errors.cannotExpand(path);
    expandPath(scope, object, steps, path);
  }
  return JSON.stringify(object);
}

function expandPath(scope: ExpandScope, object: Record<string, unknown>, steps: string[], path: string): void {
  const [field, ...rest] = steps as [string, ...string[]];
  if (!(field in object)) throw errors.cannotExpand(path);
  let value = object[field];
  if (value === null) return;
  if (Array.isArray(value)) {
    if (rest.length > 0 || !value.every((element) => typeof element === 'string')) throw errors.cannotExpand(path);
    object[field] = value.map((id: string) => JSON.parse(findAndRender(scope, id, path)) as unknown);
    return;
  }
  if (rest.length === 0 && typeof value !== 'string') throw errors.cannotExpand(path);
  if (typeof value === 'string') {
    value = JSON.parse(findAndRender(scope, value, path));
    object[field] = value;
  }
  if (rest.length > 0) {
    if (typeof value !== 'object' || value === null) throw errors.cannotExpand(path);
    expandPath(scope, value as Record<string, unknown>, rest, path);
  }
}

function findAndRender({ request, embedded }: ExpandScope, id: string, path: string): string {
  const held = embedded.get(id);
  if (held !== undefined) return held;
  const modeWorld = request.modeWorld;
  if (id.startsWith('acct_')) {
    const account = id === modeWorld.platform.id ? modeWorld.platform : modeWorld.connected.get(id);
    if (!account) throw errors.cannotExpand(path);
    return renderAccount(account, account.accountRow);
  }
  const row = request.account.byId.get(id);
  if (!row) throw errors.cannotExpand(path);
  return row.deleted ? renderDeletedStub(row) : renderObject(renderContext(request), row);
}
