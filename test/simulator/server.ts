// The simulator's HTTP server: Stripe's API under /v1 (auth, Connect, rate limits, faults) and
// the simulator's own controls under /_sim (time, truth, faults, limits, keys, statistics).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import qs from 'qs';
import type { z } from 'zod';
import {
  listAccounts,
  listEvents,
  listObjects,
  retrieveAccount,
  retrieveEvent,
  retrieveObject,
  retrieveOwnAccount,
  VERSION_FORMAT,
  type ApiRequest,
  type Query,
} from './api.js';
import { KeyRegistry, parseKeyDefinition, type ApiKey } from './auth.js';
import { ChangeRequestSchema, applyChanges } from './changes.js';
import { StripeApiError, errors } from './errors.js';
import { Faults, type FaultSettings } from './faults.js';
import { HeldResponses, type HeldResponse } from './held-responses.js';
import { RateLimiter, type RateLimits } from './rate-limit.js';
import { renderAccount, renderEvent, renderObject, renderSubscriptionExpanded } from './render.js';
import { STREAM_NAMES, type ObjectStreamName, type SubscriptionRow } from './rows.js';
import type { AccountState, EventRecord, Mode } from './store.js';
import { WebhookDeliveries, type WebhookSettings } from './webhook-delivery.js';
import {
  WebhookEndpointRegistry,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  retrieveWebhookEndpoint,
  updateWebhookEndpoint,
} from './webhook-endpoints.js';
import { DAY, World, type WorldOptions } from './world.js';

/** The world, keys, limits and faults, and how webhooks are delivered (webhook-delivery.ts). */
export interface SimulatorOptions extends WorldOptions, Partial<WebhookSettings> {
  /** Extra keys, as `rk_test_name=customers:read,…` (see auth.ts). */
  readonly keys?: readonly string[];
  readonly rateLimits?: Partial<RateLimits>;
  readonly faults?: Partial<FaultSettings>;
}

type Handler = (request: ApiRequest) => string | Buffer;

interface Route {
  /** The endpoint as rate limits and statistics name it, e.g. `GET /v1/customers/:id`. */
  readonly endpoint: string;
  readonly handler: Handler;
  readonly id?: string;
}

const OBJECT_STREAMS = new Set<string>(STREAM_NAMES.filter((s) => s !== 'events' && s !== 'accounts'));
/** Form bodies larger than this are refused (Stripe's requests are small). */
const MAX_FORM_BYTES = 1 << 20;

function route(method: string, path: string, endpoints: WebhookEndpointRegistry): Route | undefined {
  const parts = path.split('/');
  if (parts[1] !== 'v1' || parts.length < 3 || parts.length > 4) return undefined;
  const resource = parts[2] as string;
  const id = parts[3];
  if (id === '') return undefined;
  if (resource === 'webhook_endpoints') return webhookEndpointRoute(method, id === undefined ? undefined : decodeURIComponent(id), endpoints);
  if (method !== 'GET') return undefined;
  if (resource === 'account' && id === undefined) return { endpoint: 'GET /v1/account', handler: retrieveOwnAccount };
  if (resource === 'accounts') {
    return id === undefined
      ? { endpoint: 'GET /v1/accounts', handler: listAccounts }
      : { endpoint: 'GET /v1/accounts/:id', handler: retrieveAccount, id: decodeURIComponent(id) };
  }
  if (resource === 'events') {
    return id === undefined
      ? { endpoint: 'GET /v1/events', handler: listEvents }
      : { endpoint: 'GET /v1/events/:id', handler: retrieveEvent, id: decodeURIComponent(id) };
  }
  if (!OBJECT_STREAMS.has(resource)) return undefined;
  const stream = resource as ObjectStreamName;
  return id === undefined
    ? { endpoint: `GET /v1/${stream}`, handler: (r) => listObjects(r, stream) }
    : { endpoint: `GET /v1/${stream}/:id`, handler: (r) => retrieveObject(r, stream), id: decodeURIComponent(id) };
}

function webhookEndpointRoute(method: string, id: string | undefined, endpoints: WebhookEndpointRegistry): Route | undefined {
  if (id === undefined) {
    if (method === 'GET') return { endpoint: 'GET /v1/webhook_endpoints', handler: (r) => listWebhookEndpoints(r, endpoints) };
    if (method === 'POST') return { endpoint: 'POST /v1/webhook_endpoints', handler: (r) => createWebhookEndpoint(r, endpoints) };
    return undefined;
  }
  if (method === 'GET') return { endpoint: 'GET /v1/webhook_endpoints/:id', handler: (r) => retrieveWebhookEndpoint(r, endpoints), id };
  if (method === 'POST') return { endpoint: 'POST /v1/webhook_endpoints/:id', handler: (r) => updateWebhookEndpoint(r, endpoints), id };
  if (method === 'DELETE') return { endpoint: 'DELETE /v1/webhook_endpoints/:id', handler: (r) => deleteWebhookEndpoint(r, endpoints), id };
  return undefined;
}

/** The endpoints a hold rule may name: every GET endpoint `route` knows but webhook endpoints'. */
const ENDPOINTS: ReadonlySet<string> = new Set([
  'GET /v1/account',
  'GET /v1/accounts',
  'GET /v1/accounts/:id',
  'GET /v1/events',
  'GET /v1/events/:id',
  ...[...OBJECT_STREAMS].flatMap((stream) => [`GET /v1/${stream}`, `GET /v1/${stream}/:id`]),
]);

/** Counts of API requests, for tests and benchmarks. */
export interface RequestStats {
  total: number;
  byStatus: Record<string, number>;
  byEndpoint: Record<string, number>;
  byAccount: Record<string, number>;
  faults: { error: number; lock_timeout: number; drop: number };
}

function emptyStats(): RequestStats {
  return { total: 0, byStatus: {}, byEndpoint: {}, byAccount: {}, faults: { error: 0, lock_timeout: 0, drop: 0 } };
}

function statsJson(stats: RequestStats) {
  return { total: stats.total, by_status: stats.byStatus, by_endpoint: stats.byEndpoint, by_account: stats.byAccount, faults: stats.faults };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class SimulatorServer {
  readonly world: World;
  readonly keys: KeyRegistry;
  readonly limiter: RateLimiter;
  readonly faults: Faults;
  readonly holds = new HeldResponses();
  readonly webhookEndpoints = new WebhookEndpointRegistry();
  readonly webhooks: WebhookDeliveries;
  stats: RequestStats = emptyStats();
  private readonly server: Server;

  constructor(options: SimulatorOptions) {
    this.world = new World(options);
    this.keys = new KeyRegistry(options.keys ?? []);
    this.limiter = new RateLimiter();
    this.limiter.configure(options.rateLimits ?? {});
    this.faults = new Faults(options.faults ?? {}, `faults:${options.seed}`);
    this.webhooks = new WebhookDeliveries(this.world, this.webhookEndpoints, options, options.seed);
    this.world.eventListener = (account, event) => this.webhooks.eventCreated(account, event);
    this.server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`simulator failure: ${error instanceof Error ? error.stack : String(error)}`);
      });
    });
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  /** Resolves once no webhook delivery is queued, in flight or waiting for a retry. */
  webhooksIdle(): Promise<void> {
    return this.webhooks.idle();
  }

  async close(): Promise<void> {
    // Pending webhook deliveries and retries are dropped; held responses go unsent: their
    // clients see the connection close, as when a server stops.
    this.webhooks.close();
    this.holds.dropAll();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const queryText = queryAt < 0 ? '' : url.slice(queryAt + 1);
    if (path.startsWith('/_sim/')) {
      await this.control(req, res, path, queryText);
      return;
    }
    await this.api(req, res, path, queryText);
  }

  // --- Stripe's API -----------------------------------------------------------------------------

  private async api(req: IncomingMessage, res: ServerResponse, path: string, queryText: string): Promise<void> {
    const requestId = `req_${randomBytes(7).toString('hex')}`;
    const stats = this.stats;
    stats.total++;
    let status = 200;
    let body: string | Buffer;
    let headers: Record<string, string> = {};
    let version = '';
    let accountId = '(none)';
    let endpoint = `${req.method ?? 'GET'} (unknown)`;
    try {
      const key = this.keys.authenticate(req.headers.authorization);
      const modeWorld = this.world.modes[key.mode];
      const { account, viaConnect } = this.actingAccount(key, header(req, 'stripe-account'));
      accountId = account.id;
      const method = req.method ?? 'GET';
      const matched = route(method, path, this.webhookEndpoints);
      if (!matched) throw errors.unknownUrl(method, path);
      endpoint = matched.endpoint;
      version = header(req, 'stripe-version') ?? account.apiVersionAt(this.world.now);
      if (!VERSION_FORMAT.test(version)) {
        throw new StripeApiError(400, { type: 'invalid_request_error', message: `Invalid Stripe API version: ${version}` });
      }
      if (!this.limiter.admit(key.key, key.mode, account.id, matched.endpoint)) throw errors.rateLimit();
      const fault = this.faults.draw();
      if (fault !== 'none') stats.faults[fault]++;
      if (fault === 'drop') {
        await delay(this.faults.delayMs());
        req.socket.destroy();
        return;
      }
      if (fault === 'error') throw errors.internal();
      if (fault === 'lock_timeout') throw errors.lockTimeout();
      const paramText = method === 'POST' ? await readForm(req) : queryText;
      const query = paramText ? (qs.parse(paramText, { depth: 3, arrayLimit: 100, parameterLimit: 1000 }) as Query) : {};
      body = matched.handler({ key, modeWorld, account, viaConnect, version, query, ...(matched.id !== undefined ? { id: matched.id } : {}) });
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      status = error.status;
      body = error.toJson(requestId);
      headers = { ...error.headers };
    }
    const renderedAt = this.world.now;
    bump(stats.byStatus, String(status));
    bump(stats.byEndpoint, endpoint);
    bump(stats.byAccount, accountId);
    const wait = this.faults.delayMs();
    if (wait > 0) await delay(wait);
    const response = { status, requestId, version, headers, body };
    if (status === 200 && this.holds.active) {
      const held: HeldResponse = {
        endpoint,
        account: accountId,
        requestId,
        path: req.url ?? path,
        renderedAt,
        send: () => this.send(res, response),
        drop: () => req.socket.destroy(),
      };
      if (this.holds.catch(held)) {
        res.once('close', () => this.holds.forget(held));
        return;
      }
    }
    this.send(res, response);
  }

  /** Writes an API response; its `Date` is the simulated clock as it leaves. */
  private send(res: ServerResponse, r: { status: number; requestId: string; version: string; headers: Record<string, string>; body: string | Buffer }): void {
    res.writeHead(r.status, {
      'Content-Type': 'application/json',
      'Content-Length': String(typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length),
      'Request-Id': r.requestId,
      Date: new Date(this.world.now * 1000).toUTCString(),
      ...(r.version ? { 'Stripe-Version': r.version } : {}),
      ...r.headers,
    });
    res.end(r.body);
  }

  /** The account a request acts for: the key's own, or a connected one named by Stripe-Account. */
  private actingAccount(key: ApiKey, stripeAccount: string | undefined): { account: AccountState; viaConnect: boolean } {
    const modeWorld = this.world.modes[key.mode];
    if (!stripeAccount || stripeAccount === modeWorld.platform.id) return { account: modeWorld.platform, viaConnect: false };
    if (key.kind === 'restricted' && !Object.values(key.connectPermissions).some((a) => a !== 'none')) {
      throw errors.noConnectPermission();
    }
    const account = modeWorld.reachableAccount(stripeAccount);
    if (!account) throw errors.accountInvalid(key.key, stripeAccount);
    return { account, viaConnect: true };
  }

  // --- the simulator's controls ---------------------------------------------------------------

  private async control(req: IncomingMessage, res: ServerResponse, path: string, queryText: string): Promise<void> {
    const method = req.method ?? 'GET';
    const query = new URLSearchParams(queryText);
    try {
      if (method === 'GET' && path === '/_sim/truth') return await this.truth(res, parseMode(query.get('mode') ?? this.defaultMode()));
      if (method === 'GET' && path === '/_sim/info') return json(res, 200, this.info());
      if (method === 'GET' && path === '/_sim/stats') return json(res, 200, statsJson(this.stats));
      if (method === 'POST' && path === '/_sim/stats/reset') {
        this.stats = emptyStats();
        return json(res, 200, statsJson(this.stats));
      }
      if (method === 'GET' && path === '/_sim/faults') return json(res, 200, this.faults.current);
      if (method === 'GET' && path === '/_sim/rate_limits') return json(res, 200, this.limiter.settings);
      if (method === 'GET' && path === '/_sim/held') return json(res, 200, this.heldState());
      if (method === 'GET' && path === '/_sim/webhooks') {
        if (query.get('wait') === '1') await this.webhooks.idle();
        return json(res, 200, this.webhooks.state(query.get('event') ?? undefined));
      }
      if (method !== 'POST') return json(res, 404, { error: `no simulator control ${method} ${path}` });
      const body = await readJson(req);
      if (path === '/_sim/advance') return json(res, 200, this.advance(body));
      if (path === '/_sim/faults') return json(res, 200, this.setFaults(body));
      if (path === '/_sim/rate_limits') {
        const limits = pick(body, ['live', 'test', 'endpoint']) as Partial<RateLimits>;
        if (body.per_account !== undefined) limits.perAccount = body.per_account === true;
        this.limiter.configure(limits);
        return json(res, 200, this.limiter.settings);
      }
      if (path === '/_sim/hold') return json(res, 200, this.hold(body));
      if (path === '/_sim/release') return json(res, 200, this.release(body));
      if (path === '/_sim/change') return json(res, 200, this.change(body));
      if (path === '/_sim/webhooks/pause') {
        this.webhooks.pause();
        return json(res, 200, this.webhooks.state());
      }
      if (path === '/_sim/webhooks/resume') {
        this.webhooks.resume();
        return json(res, 200, this.webhooks.state());
      }
      if (path === '/_sim/keys') {
        const definition = body.definition;
        if (typeof definition !== 'string') throw new Error('POST /_sim/keys needs {"definition": "rk_test_name=customers:read,…"}');
        const key = parseKeyDefinition(definition);
        this.keys.add(key);
        return json(res, 200, { key: key.key, mode: key.mode, kind: key.kind });
      }
      return json(res, 404, { error: `no simulator control ${method} ${path}` });
    } catch (error) {
      return json(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  private defaultMode(): Mode {
    return this.world.options.modes[0] ?? 'test';
  }

  private advance(body: Record<string, unknown>) {
    const days = numberField(body, 'days') + numberField(body, 'hours') / 24 + numberField(body, 'seconds') / DAY;
    if (days <= 0) throw new Error('POST /_sim/advance needs a positive {"days": N} (or hours, seconds)');
    const newAccounts = numberField(body, 'new_accounts');
    return this.world.advance(days * DAY, Math.floor(newAccounts));
  }

  private hold(body: Record<string, unknown>) {
    const endpoint = body.endpoint;
    if (typeof endpoint !== 'string' || !ENDPOINTS.has(endpoint)) {
      throw new Error(`POST /_sim/hold needs {"endpoint": E} with E one of: ${[...ENDPOINTS].join(', ')} (got ${JSON.stringify(endpoint)})`);
    }
    const account = body.account ?? null;
    if (account !== null && (typeof account !== 'string' || !this.isAccount(account))) {
      throw new Error(`POST /_sim/hold: account ${JSON.stringify(account)} is neither the platform nor one of its connected accounts`);
    }
    this.holds.addRule(endpoint, account, wholeNumberField(body, 'count', 1));
    return this.heldState();
  }

  private release(body: Record<string, unknown>) {
    const count = body.count === undefined ? Infinity : wholeNumberField(body, 'count', 1);
    if (body.cancel_rules !== undefined && typeof body.cancel_rules !== 'boolean') throw new Error('cancel_rules must be true or false');
    if (body.cancel_rules === true) this.holds.cancelRules();
    const sentAt = this.world.now;
    const released = this.holds.release(count).map((held) => ({ ...heldJson(held), sent_at: sentAt }));
    return { released, ...this.heldState() };
  }

  private heldState() {
    const rules = this.holds.activeRules.map((rule) => ({ endpoint: rule.endpoint, account: rule.account, remaining: rule.remaining }));
    return {
      now: this.world.now,
      held: this.holds.held.map(heldJson),
      rules,
      remaining: rules.reduce((sum, rule) => sum + rule.remaining, 0),
    };
  }

  private isAccount(id: string): boolean {
    return Object.values(this.world.modes).some((m) => m.platform.id === id || m.connected.has(id));
  }

  private change(body: Record<string, unknown>) {
    const parsed = ChangeRequestSchema.safeParse(body);
    if (!parsed.success) throw new Error(`POST /_sim/change: ${describeIssues(parsed.error)}`);
    return applyChanges(this.world.modes[parsed.data.mode ?? this.defaultMode()], parsed.data);
  }

  private setFaults(body: Record<string, unknown>) {
    const settings: Partial<FaultSettings> = {};
    const names: Record<string, keyof FaultSettings> = {
      latency_ms: 'latencyMs',
      jitter_ms: 'jitterMs',
      error_rate: 'errorRate',
      lock_timeout_rate: 'lockTimeoutRate',
      drop_rate: 'dropRate',
    };
    for (const [field, setting] of Object.entries(names)) {
      if (body[field] !== undefined) settings[setting] = body[field] as number;
    }
    this.faults.configure(settings);
    for (const key of stringList(body, 'revoke_keys')) this.keys.setStatus(key, 'revoked');
    for (const key of stringList(body, 'expire_keys')) this.keys.setStatus(key, 'expired');
    for (const key of stringList(body, 'restore_keys')) this.keys.setStatus(key, 'active');
    for (const [field, connected] of [['disconnect_accounts', false], ['reconnect_accounts', true]] as const) {
      for (const id of stringList(body, field)) {
        const account = this.world.modes.test.connected.get(id) ?? this.world.modes.live.connected.get(id);
        if (!account) throw new Error(`${field}: no connected account ${id}`);
        account.connected = connected;
      }
    }
    return this.faults.current;
  }

  private info() {
    const modes = Object.fromEntries(
      (Object.entries(this.world.modes) as [Mode, World['modes'][Mode]][]).map(([mode, m]) => [
        mode,
        {
          populated: m.populated,
          platform: m.platform.id,
          connected_accounts: [...m.connected.values()].map((a) => ({ id: a.id, connected: a.connected, objects: a.objectCount(), events: a.events.length })),
          objects: [...m.allAccounts()].reduce((sum, a) => sum + a.objectCount(), 0),
          events: [...m.allAccounts()].reduce((sum, a) => sum + a.events.length, 0),
        },
      ]),
    );
    const cpu = process.cpuUsage();
    return { now: this.world.now, start: this.world.start, platform: this.world.platformId, cpu_seconds: (cpu.user + cpu.system) / 1e6, modes };
  }

  /** Every object's current state as JSON lines, rendered at the stripe SDK's API version; subscriptions with their discounts expanded, as the connector reads them. */
  private async truth(res: ServerResponse, mode: Mode): Promise<void> {
    const modeWorld = this.world.modes[mode];
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    const applicationId = modeWorld.business.applicationId;
    let chunk = '';
    for (const line of modeWorld.truth()) {
      const ctx = { account: line.account, era: 'current' as const, now: this.world.now, applicationId };
      const object =
        line.stream === 'events'
          ? renderEvent(ctx, line.row as EventRecord, line.account)
          : line.stream === 'accounts'
            ? renderAccount(line.account, line.account.accountRow)
            : line.stream === 'subscriptions'
              ? renderSubscriptionExpanded(ctx, line.row as SubscriptionRow)
              : renderObject(ctx, line.row as Parameters<typeof renderObject>[1]);
      chunk += `{"stream":"${line.stream}","account_id":"${line.account_id}","id":${JSON.stringify(line.id)},"deleted":${line.deleted},"object":${object}}\n`;
      if (chunk.length > 1 << 16) {
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        chunk = '';
      }
    }
    res.end(chunk);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A POST's form-encoded parameters, as text. */
async function readForm(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new StripeApiError(400, { type: 'invalid_request_error', message: `The request body is larger than ${MAX_FORM_BYTES} bytes.` });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the body must be a JSON object');
  return value as Record<string, unknown>;
}

function parseMode(value: string): Mode {
  if (value !== 'test' && value !== 'live') throw new Error(`mode must be test or live, not ${value}`);
  return value;
}

function numberField(body: Record<string, unknown>, name: string): number {
  const value = body[name];
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0`);
  return value;
}

/** A whole number ≥ 1, or `fallback` when absent. */
function wholeNumberField(body: Record<string, unknown>, name: string, fallback: number): number {
  const value = body[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1 (got ${JSON.stringify(value)})`);
  return value;
}

function heldJson(held: HeldResponse) {
  return { endpoint: held.endpoint, account: held.account, request_id: held.requestId, path: held.path, rendered_at: held.renderedAt };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${String(step)}`)).join('').replace(/^\./, '');
      if (issue.code === 'unrecognized_keys') return `${where || 'the body'}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      return `${where || 'the body'}: ${issue.message}`;
    })
    .join('; ');
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${name} must be a list of strings`);
  return value as string[];
}

function pick(body: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (body[name] !== undefined) out[name] = body[name];
  return out;
}
