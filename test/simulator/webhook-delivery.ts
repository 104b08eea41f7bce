// Delivers the simulator's new events to the webhook endpoints that want them, as Stripe does:
// each POST signed with the endpoint's secret, rendered at the endpoint's API version, retried
// with exponential backoff until a 2xx, at least once and not in order. Deliveries wait in a
// queue and leave with bounded concurrency, so that thousands of events cost little.
import http from 'node:http';
import https from 'node:https';
import Stripe from 'stripe';
import { Rng } from './random.js';
import { renderEventAt } from './render.js';
import type { AccountState, EventRecord } from './store.js';
import type { WebhookEndpoint, WebhookEndpointRegistry } from './webhook-endpoints.js';
import type { World } from './world.js';

export interface WebhookSettings {
  /** The first retry waits this long (times 1 to 1.5, drawn), each next one twice as long. */
  readonly webhookRetryBaseMs: number;
  /** Attempts of one delivery before it is given up (failed). */
  readonly webhookMaxAttempts: number;
  /** Share of delivered events sent once more, later (Stripe delivers at least once). */
  readonly webhookDuplicateRate: number;
  /** Deliveries in flight at once, over all endpoints. */
  readonly webhookConcurrency: number;
  /** Sends each batch of queued deliveries in a seeded random order instead of the order of the events. */
  readonly webhookShuffle: boolean;
  /** A receiver that has not answered by then has failed the attempt. */
  readonly webhookTimeoutMs: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  webhookRetryBaseMs: 1000,
  webhookMaxAttempts: 12,
  webhookDuplicateRate: 0,
  webhookConcurrency: 8,
  webhookShuffle: false,
  webhookTimeoutMs: 10_000,
};

/** A setting as options and the command line name it: `webhookMaxAttempts (--webhook-max-attempts)`. */
function settingName(name: keyof WebhookSettings): string {
  return `${name} (--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})`;
}

/** Throws, naming the setting, unless every setting is usable. */
export function checkWebhookSettings(settings: WebhookSettings): WebhookSettings {
  for (const name of ['webhookMaxAttempts', 'webhookConcurrency'] as const) {
    if (!Number.isInteger(settings[name]) || settings[name] < 1) throw new Error(`${settingName(name)} must be a whole number ≥ 1 (got ${settings[name]})`);
  }
  for (const name of ['webhookRetryBaseMs', 'webhookTimeoutMs'] as const) {
    if (!Number.isFinite(settings[name]) || settings[name] <= 0) throw new Error(`${settingName(name)} must be a number of milliseconds > 0 (got ${settings[name]})`);
  }
  const rate = settings.webhookDuplicateRate;
  if (!(rate >= 0 && rate <= 1)) throw new Error(`${settingName('webhookDuplicateRate')} must be from 0 to 1 (got ${rate})`);
  return settings;
}

/** The webhook settings among `options` (a simulator's), the defaults for those not given. */
function webhookSettingsOf(options: Partial<WebhookSettings>): WebhookSettings {
  const settings = { ...DEFAULT_WEBHOOK_SETTINGS };
  for (const name of Object.keys(settings) as (keyof WebhookSettings)[]) {
    if (options[name] !== undefined) Object.assign(settings, { [name]: options[name] });
  }
  return settings;
}

/** One try at a delivery, as `/_sim/webhooks` shows it. */
interface Attempt {
  /** Wall-clock milliseconds when the request left. */
  readonly sentAtMs: number;
  /** `HTTP 200`, `HTTP 500`, `timed out after N ms`, `connection failed: ECONNREFUSED`, … */
  readonly result: string;
  /** The wait before the next attempt, or null when there is none. */
  retryInMs: number | null;
}

type DeliveryState = 'queued' | 'sending' | 'waiting' | 'delivered' | 'failed' | 'dropped';

/** One event on its way to one endpoint. */
interface Delivery {
  readonly endpoint: WebhookEndpoint;
  readonly event: EventRecord;
  readonly account: AccountState;
  /** A second sending of an event already delivered: not retried. */
  readonly duplicate: boolean;
  state: DeliveryState;
  /** The bytes every attempt sends, rendered at the first; let go once the delivery is over. */
  payload: string | undefined;
  readonly attempts: Attempt[];
  timer: NodeJS.Timeout | undefined;
}

interface EndpointCounts {
  readonly endpoint: WebhookEndpoint;
  /** Deliveries queued, in flight or waiting to be retried. */
  readonly live: Set<Delivery>;
  delivered: number;
  duplicates: number;
  failedAttempts: number;
  failed: number;
  dropped: number;
  lastError: { event: string; attempt: number; error: string; sentAtMs: number } | null;
}

/** How many events' deliveries `/_sim/webhooks?event=` can still show. */
const KEPT_EVENTS = 1000;
/** The queue's consumed head is cut off once it is this long. */
const QUEUE_COMPACTION = 4096;

export class WebhookDeliveries {
  private readonly settings: WebhookSettings;
  private readonly rng: Rng;
  private readonly counts = new Map<string, EndpointCounts>();
  /** Deliveries of the latest events, by event id (oldest first), for inspection. */
  private readonly byEvent = new Map<string, Delivery[]>();
  private readonly queue: Delivery[] = [];
  private queueHead = 0;
  /** Where the batch not yet shuffled starts. */
  private batchStart = 0;
  private inFlight = 0;
  private pumpScheduled: NodeJS.Immediate | undefined;
  private readonly requests = new Set<http.ClientRequest>();
  private readonly agents: { http: http.Agent; https: https.Agent };
  private idleWaiters: (() => void)[] = [];
  private paused = false;
  private closed = false;

  constructor(
    private readonly world: World,
    private readonly endpoints: WebhookEndpointRegistry,
    settings: Partial<WebhookSettings>,
    seed: string,
  ) {
    this.settings = checkWebhookSettings(webhookSettingsOf(settings));
    this.rng = new Rng(`webhooks:${seed}`);
    const agentOptions = { keepAlive: true, maxSockets: this.settings.webhookConcurrency };
    this.agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
    endpoints.onRetire((endpoint) => this.drop(endpoint));
  }

  /** Queues `event` for every enabled endpoint that wants it. */
  eventCreated(account: AccountState, event: EventRecord): void {
    if (this.closed || !account.connected) return;
    for (const endpoint of this.endpoints.receiversOf(account, event.type)) {
      this.enqueue({ endpoint, event, account, duplicate: false, state: 'queued', payload: undefined, attempts: [], timer: undefined });
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedulePump();
  }

  /** Resolves once nothing is queued, in flight or waiting for a retry (or the simulator closes). */
  idle(): Promise<void> {
    if (this.closed || this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops every timer and request: nothing more leaves. */
  close(): void {
    this.closed = true;
    if (this.pumpScheduled) clearImmediate(this.pumpScheduled);
    for (const counts of this.counts.values()) {
      for (const delivery of counts.live) clearTimeout(delivery.timer);
      counts.live.clear();
    }
    for (const request of this.requests) request.destroy();
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.notifyIdle();
  }

  /** Counts per endpoint (every endpoint, and the deleted ones that had deliveries), and every attempt at the deliveries of `eventId` when given. */
  state(eventId?: string) {
    for (const endpoint of [...this.endpoints.list('test'), ...this.endpoints.list('live')]) this.countsOf(endpoint);
    const endpoints = [...this.counts.values()].map((c) => ({
      id: c.endpoint.id,
      mode: c.endpoint.mode,
      connect: c.endpoint.connect,
      url: c.endpoint.url,
      status: c.endpoint.status,
      deleted: c.endpoint.deleted,
      delivered: c.delivered,
      duplicates: c.duplicates,
      pending: c.live.size,
      failed_attempts: c.failedAttempts,
      failed: c.failed,
      dropped: c.dropped,
      last_error: c.lastError && { event: c.lastError.event, attempt: c.lastError.attempt, error: c.lastError.error, sent_at_ms: c.lastError.sentAtMs },
    }));
    const settings = {
      retry_base_ms: this.settings.webhookRetryBaseMs,
      max_attempts: this.settings.webhookMaxAttempts,
      duplicate_rate: this.settings.webhookDuplicateRate,
      concurrency: this.settings.webhookConcurrency,
      shuffle: this.settings.webhookShuffle,
      timeout_ms: this.settings.webhookTimeoutMs,
    };
    const state = { paused: this.paused, idle: this.isIdle(), pending: this.pending(), in_flight: this.inFlight, settings, endpoints };
    if (eventId === undefined) return state;
    const deliveries = (this.byEvent.get(eventId) ?? []).map((d) => ({
      endpoint: d.endpoint.id,
      event: d.event.id,
      duplicate: d.duplicate,
      state: d.state,
      attempts: d.attempts.map((a) => ({ sent_at_ms: a.sentAtMs, result: a.result, retry_in_ms: a.retryInMs })),
    }));
    return { ...state, deliveries };
  }

  // --- the queue ------------------------------------------------------------------------------

  private countsOf(endpoint: WebhookEndpoint): EndpointCounts {
    let counts = this.counts.get(endpoint.id);
    if (!counts) {
      counts = { endpoint, live: new Set(), delivered: 0, duplicates: 0, failedAttempts: 0, failed: 0, dropped: 0, lastError: null };
      this.counts.set(endpoint.id, counts);
    }
    return counts;
  }

  private enqueue(delivery: Delivery): void {
    this.countsOf(delivery.endpoint).live.add(delivery);
    this.remember(delivery);
    this.queue.push(delivery);
    this.schedulePump();
  }

  private remember(delivery: Delivery): void {
    const id = delivery.event.id;
    const kept = this.byEvent.get(id);
    if (kept) {
      kept.push(delivery);
      return;
    }
    this.byEvent.set(id, [delivery]);
    if (this.byEvent.size > KEPT_EVENTS) this.byEvent.delete(this.byEvent.keys().next().value as string);
  }

  /** Deliveries queued, in flight or waiting for a retry. */
  private pending(): number {
    let pending = 0;
    for (const counts of this.counts.values()) pending += counts.live.size;
    return pending;
  }

  /** Nothing pending, and no request out (one of an endpoint deleted meanwhile still counts). */
  private isIdle(): boolean {
    return this.inFlight === 0 && this.pending() === 0;
  }

  /** Sends wait for the current turn of the event loop to end: an advance queues its events as one batch. */
  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = setImmediate(() => {
      this.pumpScheduled = undefined;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed || this.paused) return;
    if (this.settings.webhookShuffle) this.shuffleBatch();
    while (this.inFlight < this.settings.webhookConcurrency && this.queueHead < this.queue.length) {
      const delivery = this.queue[this.queueHead++] as Delivery;
      if (delivery.state === 'queued') void this.attempt(delivery);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
      this.batchStart = 0;
    } else if (this.queueHead > QUEUE_COMPACTION) {
      this.queue.splice(0, this.queueHead);
      this.batchStart = Math.max(0, this.batchStart - this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Fisher-Yates over the deliveries queued since the last shuffle. */
  private shuffleBatch(): void {
    const start = Math.max(this.batchStart, this.queueHead);
    for (let i = this.queue.length - 1; i > start; i--) {
      const j = start + Math.floor(this.rng.next() * (i - start + 1));
      [this.queue[i], this.queue[j]] = [this.queue[j] as Delivery, this.queue[i] as Delivery];
    }
    this.batchStart = this.queue.length;
  }

  // --- one attempt ----------------------------------------------------------------------------

  private async attempt(delivery: Delivery): Promise<void> {
    delivery.state = 'sending';
    this.inFlight++;
    const { endpoint, event, account } = delivery;
    if (delivery.payload === undefined) {
      const ctx = { account, now: this.world.now, applicationId: this.world.modes[account.mode].business.applicationId };
      delivery.payload = renderEventAt(ctx, event, endpoint.apiVersion ?? event.apiVersion, account);
    }
    const sentAtMs = Date.now();
    const result = await this.post(endpoint.url, delivery.payload, endpoint.secret, Math.floor(sentAtMs / 1000));
    this.inFlight--;
    if (this.closed) return;
    const attempt: Attempt = { sentAtMs, result, retryInMs: null };
    delivery.attempts.push(attempt);
    this.settle(delivery, attempt);
    this.schedulePump();
    if (this.isIdle()) this.notifyIdle();
  }

  /** What follows an attempt: done, a retry later, or given up. */
  private settle(delivery: Delivery, attempt: Attempt): void {
    const counts = this.countsOf(delivery.endpoint);
    if (/^HTTP 2\d\d$/.test(attempt.result)) {
      const payload = delivery.payload;
      this.finish(delivery, counts, 'delivered');
      if (delivery.duplicate) counts.duplicates++;
      else counts.delivered++;
      const wanted = delivery.state === 'delivered' && !delivery.duplicate && this.settings.webhookDuplicateRate > 0;
      if (wanted && this.rng.chance(this.settings.webhookDuplicateRate)) {
        this.enqueue({ ...delivery, duplicate: true, state: 'queued', payload, attempts: [], timer: undefined });
      }
      return;
    }
    counts.failedAttempts++;
    counts.lastError = { event: delivery.event.id, attempt: delivery.attempts.length, error: attempt.result, sentAtMs: attempt.sentAtMs };
    if (delivery.state === 'dropped') return;
    if (delivery.duplicate || delivery.attempts.length >= this.settings.webhookMaxAttempts) {
      this.finish(delivery, counts, 'failed');
      if (!delivery.duplicate) counts.failed++;
      return;
    }
    const wait = Math.round(this.settings.webhookRetryBaseMs * 2 ** (delivery.attempts.length - 1) * (1 + this.rng.next() / 2));
    attempt.retryInMs = wait;
    delivery.state = 'waiting';
    delivery.timer = setTimeout(() => {
      delivery.timer = undefined;
      delivery.state = 'queued';
      this.queue.push(delivery);
      this.schedulePump();
    }, wait);
  }

  private finish(delivery: Delivery, counts: EndpointCounts, state: 'delivered' | 'failed'): void {
    if (delivery.state !== 'dropped') delivery.state = state;
    delivery.payload = undefined;
    counts.live.delete(delivery);
  }

  /** An endpoint deleted or disabled gets nothing more: its queued deliveries and retries go. */
  private drop(endpoint: WebhookEndpoint): void {
    const counts = this.counts.get(endpoint.id);
    if (!counts) return;
    for (const delivery of counts.live) {
      clearTimeout(delivery.timer);
      delivery.state = 'dropped';
      delivery.payload = undefined;
      counts.dropped++;
    }
    counts.live.clear();
    if (this.isIdle()) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** POSTs one signed event; answers with the attempt's result. */
  private post(url: string, payload: string, secret: string, timestamp: number): Promise<string> {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    return new Promise((resolve) => {
      const request = client.request(target, {
        method: 'POST',
        agent: target.protocol === 'https:' ? this.agents.https : this.agents.http,
        timeout: this.settings.webhookTimeoutMs,
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(payload),
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Stripe-Signature': signature,
        },
      });
      let answered = false;
      const done = (result: string) => {
        if (answered) return;
        answered = true;
        this.requests.delete(request);
        resolve(result);
      };
      this.requests.add(request);
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => done(`HTTP ${response.statusCode}`));
        response.on('error', () => done(`HTTP ${response.statusCode}`));
      });
      request.on('timeout', () => request.destroy(new Error(`timed out after ${this.settings.webhookTimeoutMs} ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => {
        done(error.message.startsWith('timed out') ? error.message : `connection failed: ${error.code ?? error.message}`);
      });
      request.end(payload);
    });
  }
}
