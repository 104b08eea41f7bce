// Webhook endpoints (`/v1/webhook_endpoints`): where the simulator delivers its events. They
// belong to the platform in one mode; create, list, retrieve, update and delete as Stripe's API.
import { randomInt } from 'node:crypto';
import { asBoolean, asList, asString, checkParams, listJson, pageOptions, paginate, parseExpand, VERSION_FORMAT, type ApiRequest, type Query, type QueryValue } from './api.js';
import { authorize } from './auth.js';
import { StripeApiError, errors } from './errors.js';
import type { AccountState, Mode } from './store.js';

export interface WebhookEndpoint {
  readonly id: string;
  readonly mode: Mode;
  readonly created: number;
  /** Orders endpoints created in the same second. */
  readonly seq: number;
  /** True: receives the connected accounts' events; false: the platform's own. Not shown: Stripe's object has no such field. */
  readonly connect: boolean;
  /** Events are rendered at this version; null: at each event's own version. */
  readonly apiVersion: string | null;
  /** Signs every delivery; shown only in the response that creates the endpoint. */
  readonly secret: string;
  url: string;
  enabledEvents: readonly string[];
  description: string | null;
  metadata: Record<string, string>;
  status: 'enabled' | 'disabled';
  deleted: boolean;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Unpredictable text (crypto random): ids and secrets must not follow from the seed. */
function randomText(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += BASE62[randomInt(62)];
  return text;
}

/** The endpoints of both modes, oldest first. */
export class WebhookEndpointRegistry {
  private readonly rows: Record<Mode, WebhookEndpoint[]> = { test: [], live: [] };
  private readonly byId = new Map<string, WebhookEndpoint>();
  private readonly retireListeners: ((endpoint: WebhookEndpoint) => void)[] = [];
  private seq = 0;

  /** `listener` hears of every endpoint deleted or disabled: it receives nothing more. */
  onRetire(listener: (endpoint: WebhookEndpoint) => void): void {
    this.retireListeners.push(listener);
  }

  list(mode: Mode): readonly WebhookEndpoint[] {
    return this.rows[mode];
  }

  get(mode: Mode, id: string): WebhookEndpoint | undefined {
    const endpoint = this.byId.get(id);
    return endpoint && endpoint.mode === mode ? endpoint : undefined;
  }

  add(fields: Omit<WebhookEndpoint, 'id' | 'seq' | 'secret' | 'status' | 'deleted'>): WebhookEndpoint {
    const endpoint: WebhookEndpoint = {
      ...fields,
      id: `we_${randomText(24)}`,
      seq: ++this.seq,
      secret: `whsec_${randomText(32)}`,
      status: 'enabled',
      deleted: false,
    };
    this.rows[endpoint.mode].push(endpoint);
    this.byId.set(endpoint.id, endpoint);
    return endpoint;
  }

  setStatus(endpoint: WebhookEndpoint, status: WebhookEndpoint['status']): void {
    endpoint.status = status;
    if (status === 'disabled') this.retire(endpoint);
  }

  remove(endpoint: WebhookEndpoint): void {
    endpoint.deleted = true;
    const rows = this.rows[endpoint.mode];
    rows.splice(rows.indexOf(endpoint), 1);
    this.byId.delete(endpoint.id);
    this.retire(endpoint);
  }

  /** The enabled endpoints that want an event of `type` from `account`. */
  receiversOf(account: AccountState, type: string): WebhookEndpoint[] {
    return this.rows[account.mode].filter(
      (e) => e.status === 'enabled' && e.connect === !account.isPlatform && (e.enabledEvents.includes('*') || e.enabledEvents.includes(type)),
    );
  }

  private retire(endpoint: WebhookEndpoint): void {
    for (const listener of this.retireListeners) listener(endpoint);
  }
}

// --- the API --------------------------------------------------------------------------------

/** The endpoint as Stripe shows it; `secret` only when it has just been created. */
function endpointJson(endpoint: WebhookEndpoint, withSecret = false): string {
  return JSON.stringify({
    api_version: endpoint.apiVersion,
    application: null,
    created: endpoint.created,
    description: endpoint.description,
    enabled_events: endpoint.enabledEvents,
    id: endpoint.id,
    livemode: endpoint.mode === 'live',
    metadata: endpoint.metadata,
    object: 'webhook_endpoint',
    ...(withSecret ? { secret: endpoint.secret } : {}),
    status: endpoint.status,
    url: endpoint.url,
  });
}

const EVENT_TYPE_FORMAT = /^[a-z_]+(\.[a-z_]+)+$/;
const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;

/** Stripe keeps webhook endpoints on the account that makes them; here only the platform has any. */
function checkPlatform(request: ApiRequest): void {
  if (request.viaConnect) {
    throw new StripeApiError(400, {
      type: 'invalid_request_error',
      message:
        'The simulator keeps webhook endpoints on the platform only: send this request without the Stripe-Account header, and create the endpoint with connect=true to receive the connected accounts\' events.',
    });
  }
}

function requiredText(query: Query, param: string): string {
  const value = asString(param, query[param]);
  if (value === undefined) throw errors.missingParameter(param);
  if (value === '') throw errors.emptyParameter(param);
  return value;
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.urlInvalid('url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw errors.urlInvalid('url');
  return value;
}

function parseEnabledEvents(value: QueryValue | undefined): string[] {
  if (value === undefined) throw errors.missingParameter('enabled_events');
  if (value === '') throw errors.emptyParameter('enabled_events');
  const events = asList('enabled_events', value);
  if (events.length === 0) throw errors.missingParameter('enabled_events');
  events.forEach((type, i) => {
    if (type !== '*' && !EVENT_TYPE_FORMAT.test(type)) {
      throw errors.invalidParameter(`enabled_events[${i}]`, `Invalid enabled_events[${i}]: must be '*' or an event type such as charge.succeeded (got '${type}')`, 'parameter_invalid_string');
    }
  });
  return [...new Set(events)];
}

/** An optional description; "" unsets it. */
function parseDescription(value: QueryValue | undefined, current: string | null): string | null {
  const text = asString('description', value);
  if (text === undefined) return current;
  return text === '' ? null : text;
}

/** Stripe's metadata rules: the keys given are set, a key given "" is removed, `metadata=""` removes every key. */
function mergeMetadata(value: QueryValue | undefined, current: Readonly<Record<string, string>>): Record<string, string> {
  if (value === undefined) return { ...current };
  if (value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw errors.invalidParameter('metadata', 'Invalid object', 'parameter_invalid_string');
  const merged: Record<string, string> = { ...current };
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw errors.invalidParameter(`metadata[${key}]`, `Invalid metadata[${key}]: must be a string`, 'parameter_invalid_string');
    if (key.length > METADATA_LIMITS.keyLength) throw errors.invalidParameter(`metadata[${key}]`, `Metadata keys can have up to ${METADATA_LIMITS.keyLength} characters.`, 'parameter_invalid_string');
    if (v.length > METADATA_LIMITS.valueLength) throw errors.invalidParameter(`metadata[${key}]`, `Metadata values can have up to ${METADATA_LIMITS.valueLength} characters.`, 'parameter_invalid_string');
    if (v === '') delete merged[key];
    else merged[key] = v;
  }
  if (Object.keys(merged).length > METADATA_LIMITS.keys) throw errors.invalidParameter('metadata', `You can have up to ${METADATA_LIMITS.keys} metadata keys.`, 'parameter_invalid_string');
  return merged;
}

/** Nothing of an endpoint holds an id to expand. */
function refuseExpand(query: Query): void {
  const [path] = parseExpand(query.expand);
  if (path !== undefined) throw errors.cannotExpand(path);
}

const CREATE_PARAMS = new Set(['url', 'enabled_events', 'api_version', 'connect', 'description', 'metadata', 'expand']);
const UPDATE_PARAMS = new Set(['url', 'enabled_events', 'description', 'metadata', 'disabled', 'expand']);
const LIST_PARAMS = new Set(['limit', 'starting_after', 'ending_before', 'expand']);
const NO_PARAMS = new Set<string>();

export function createWebhookEndpoint(request: ApiRequest, registry: WebhookEndpointRegistry): string {
  authorize(request.key, 'webhook_endpoints', 'write', request.account.id, request.viaConnect);
  checkPlatform(request);
  const query = request.query;
  checkParams(query, CREATE_PARAMS, NO_PARAMS);
  const url = parseUrl(requiredText(query, 'url'));
  const enabledEvents = parseEnabledEvents(query.enabled_events);
  const apiVersion = asString('api_version', query.api_version) ?? null;
  if (apiVersion !== null && !VERSION_FORMAT.test(apiVersion)) {
    throw errors.invalidParameter('api_version', `Invalid api_version: ${apiVersion}`, 'parameter_invalid_string');
  }
  const connect = query.connect === undefined ? false : asBoolean('connect', query.connect);
  const description = parseDescription(query.description, null);
  const metadata = mergeMetadata(query.metadata, {});
  refuseExpand(query);
  const endpoint = registry.add({
    mode: request.key.mode,
    created: request.modeWorld.now,
    connect,
    apiVersion,
    url,
    enabledEvents,
    description,
    metadata,
  });
  return endpointJson(endpoint, true);
}

export function listWebhookEndpoints(request: ApiRequest, registry: WebhookEndpointRegistry): string {
  authorize(request.key, 'webhook_endpoints', 'read', request.account.id, request.viaConnect);
  checkPlatform(request);
  checkParams(request.query, LIST_PARAMS, NO_PARAMS);
  refuseExpand(request.query);
  const mode = request.key.mode;
  const find = (id: string) => registry.get(mode, id);
  const { page, hasMore } = paginate(registry.list(mode), pageOptions(request.query, find, 'webhook_endpoint', () => true));
  return listJson('/v1/webhook_endpoints', page.map((endpoint) => endpointJson(endpoint)), hasMore);
}

export function retrieveWebhookEndpoint(request: ApiRequest, registry: WebhookEndpointRegistry): string {
  authorize(request.key, 'webhook_endpoints', 'read', request.account.id, request.viaConnect);
  checkPlatform(request);
  checkParams(request.query, ['expand'], NO_PARAMS);
  refuseExpand(request.query);
  return endpointJson(existing(request, registry));
}

export function updateWebhookEndpoint(request: ApiRequest, registry: WebhookEndpointRegistry): string {
  authorize(request.key, 'webhook_endpoints', 'write', request.account.id, request.viaConnect);
  checkPlatform(request);
  const query = request.query;
  checkParams(query, UPDATE_PARAMS, NO_PARAMS);
  const endpoint = existing(request, registry);
  // Everything is checked before anything changes.
  const url = query.url === undefined ? endpoint.url : parseUrl(requiredText(query, 'url'));
  const enabledEvents = query.enabled_events === undefined ? endpoint.enabledEvents : parseEnabledEvents(query.enabled_events);
  const description = parseDescription(query.description, endpoint.description);
  const metadata = mergeMetadata(query.metadata, endpoint.metadata);
  const disabled = query.disabled === undefined ? endpoint.status === 'disabled' : asBoolean('disabled', query.disabled);
  refuseExpand(query);
  endpoint.url = url;
  endpoint.enabledEvents = enabledEvents;
  endpoint.description = description;
  endpoint.metadata = metadata;
  const status = disabled ? 'disabled' : 'enabled';
  if (status !== endpoint.status) registry.setStatus(endpoint, status);
  return endpointJson(endpoint);
}

export function deleteWebhookEndpoint(request: ApiRequest, registry: WebhookEndpointRegistry): string {
  authorize(request.key, 'webhook_endpoints', 'write', request.account.id, request.viaConnect);
  checkPlatform(request);
  checkParams(request.query, NO_PARAMS, NO_PARAMS);
  const endpoint = existing(request, registry);
  registry.remove(endpoint);
  return JSON.stringify({ id: endpoint.id, object: 'webhook_endpoint', deleted: true });
}

function existing(request: ApiRequest, registry: WebhookEndpointRegistry): WebhookEndpoint {
  const mode = request.key.mode;
  const id = request.id as string;
  const endpoint = registry.get(mode, id);
  if (endpoint) return endpoint;
  const otherMode = mode === 'test' ? 'live' : 'test';
  throw errors.noSuchObject('webhook_endpoint', id, 'id', registry.get(otherMode, id) ? otherMode : null);
}
