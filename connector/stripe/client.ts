// The one way this connector talks to Stripe: the real `stripe` SDK, its own retries off, every
// request passing the rate budget, and one retry layer (p-retry) for 429s, 5xx and dropped
// connections that honours Stripe-Should-Retry and Retry-After.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import pRetry from 'p-retry';
import Stripe from 'stripe';
import type { SourceConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { RequestScheduler } from './rate-budget.js';

/** The API version every object is read at: the records of a stream all have its shape. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

/**
 * Stripe's per-endpoint limit is 25 requests a second. Evenly spaced at 24, the 26th request of a
 * second would have to arrive 42 ms early: more room for network jitter than a live key's full
 * budget of 97 a second leaves under its 100 (31 ms).
 */
export const DEFAULT_PER_ENDPOINT_RATE = 24;

/** A list value is sent as the parameter repeated (`expand[]=a&expand[]=b`). */
export type QueryParams = Readonly<Record<string, string | number | readonly string[] | undefined>>;

export interface StripeReply<T> {
  readonly body: T;
  /** Stripe's clock when it answered (the Date header), unix seconds. */
  readonly serverTime: number;
  /** How long the request that succeeded was out, ms (its wait for the budget not included). */
  readonly elapsedMs: number;
}

export interface StripeList<T> {
  readonly object: 'list';
  readonly data: T[];
  readonly has_more: boolean;
}

export interface ClientStats {
  requests: number;
  retries: number;
  rateLimited: number;
  failures: number;
}

export interface RequestOptions {
  /** The connected account to act for (Stripe-Account); omitted for the platform. */
  readonly account?: string;
  /** The endpoint as rate limits count it, e.g. `GET /v1/customers`. */
  readonly endpoint: string;
  /** Among waiting requests to the same endpoint, higher goes first. */
  readonly priority?: number;
  /** The request is a page the caller's estimate of the endpoint's work counts (see RequestScheduler). */
  readonly estimated?: boolean;
  /** How long this request may keep failing before giving up (default: the client's). */
  readonly maxRetryTimeMs?: number;
}

type StripeError = InstanceType<typeof Stripe.errors.StripeError>;

/**
 * The `stripe` SDK as every part of the connector uses it: at the config's api_base, at our
 * pinned API version, its own retries off (ours honour Stripe's advice), no telemetry.
 */
export function stripeSdk(config: SourceConfig, extra: Stripe.StripeConfig = {}): Stripe {
  const base = config.apiBase;
  const secure = base.protocol === 'https:';
  return new Stripe(config.apiKey, {
    apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
    host: base.hostname,
    port: base.port || (secure ? 443 : 80),
    protocol: secure ? 'https' : 'http',
    maxNetworkRetries: 0,
    telemetry: false,
    appInfo: { name: 'stripe-elt', url: 'https://github.com/stripe-elt' },
    ...extra,
  });
}

export function isStripeError(error: unknown): error is StripeError {
  return error instanceof Stripe.errors.StripeError;
}

function header(error: StripeError, name: string): string | undefined {
  const headers = (error.headers ?? {}) as Record<string, string | string[] | undefined>;
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether Stripe asks us to retry a failed request, and whether the failure was our speed. */
export function retryAdvice(error: unknown): { retry: boolean; rateLimited: boolean } {
  if (!isStripeError(error)) return { retry: false, rateLimited: false };
  if (error instanceof Stripe.errors.StripeConnectionError) return { retry: true, rateLimited: false };
  const shouldRetry = header(error, 'stripe-should-retry');
  if (shouldRetry === 'false') return { retry: false, rateLimited: false };
  const status = error.statusCode ?? 0;
  const rateLimited = status === 429 && error.code !== 'lock_timeout';
  if (shouldRetry === 'true') return { retry: true, rateLimited };
  return { retry: status === 429 || status === 409 || status >= 500, rateLimited };
}

export class StripeApi {
  readonly stats: ClientStats = { requests: 0, retries: 0, rateLimited: 0, failures: 0 };
  readonly scheduler: RequestScheduler;
  private readonly stripe: Stripe;

  constructor(
    readonly config: SourceConfig,
    private readonly logger: Logger,
    options: { maxInFlight?: number; endpointWeight?: (endpoint: string) => number; maxRetryTimeMs?: number } = {},
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxInFlight ?? 64 };
    this.stripe = stripeSdk(config, {
      timeout: 80_000,
      httpAgent: config.apiBase.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions),
    });
    this.maxRetryTimeMs = options.maxRetryTimeMs ?? 5 * 60_000;
    this.scheduler = new RequestScheduler(
      { perSecond: config.maxRequestsPerSecond, perEndpointPerSecond: Math.min(DEFAULT_PER_ENDPOINT_RATE, config.maxRequestsPerSecond) },
      options.maxInFlight ?? 64,
      options.endpointWeight,
    );
  }

  /** How long a request may keep failing before it gives up. */
  readonly maxRetryTimeMs: number;

  /** GET with query parameters, within the budget, retried as Stripe advises. */
  async get<T>(path: string, params: QueryParams, options: RequestOptions): Promise<StripeReply<T>> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (Array.isArray(value)) for (const element of value as readonly string[]) query.append(key, element);
      else if (value !== undefined) query.set(key, String(value));
    }
    const url = query.size > 0 ? `${path}?${query.toString()}` : path;
    const requestOptions = options.account ? { stripeAccount: options.account } : {};
    // When the last attempt went out: a 429 slows the budget only if it came after the last slowdown.
    let sentAt = 0;
    return pRetry(
      async () => {
        this.stats.requests++;
        const body = (await this.scheduler.run(
          options.endpoint,
          () => {
            sentAt = performance.now();
            return this.stripe.rawRequest('GET', url, undefined, requestOptions) as Promise<T & { lastResponse?: { headers?: Record<string, string> } }>;
          },
          { priority: options.priority ?? 0, estimated: options.estimated ?? false },
        )) as T & { lastResponse?: { headers?: Record<string, string> } };
        const date = body.lastResponse?.headers?.date;
        const serverTime = date ? Math.floor(Date.parse(date) / 1000) : Math.floor(Date.now() / 1000);
        return { body, serverTime, elapsedMs: performance.now() - sentAt };
      },
      {
        retries: 8,
        factor: 2,
        minTimeout: 500,
        maxTimeout: 20_000,
        randomize: true,
        maxRetryTime: options.maxRetryTimeMs ?? this.maxRetryTimeMs,
        shouldConsumeRetry: ({ error }) => !retryAdvice(error).rateLimited,
        shouldRetry: ({ error }) => retryAdvice(error).retry,
        onFailedAttempt: async ({ error, attemptNumber }) => {
          const advice = retryAdvice(error);
          if (!advice.retry) {
            this.stats.failures++;
            return;
          }
          this.stats.retries++;
          if (advice.rateLimited) {
            this.stats.rateLimited++;
            this.scheduler.rateLimited(sentAt);
          }
          const retryAfter = isStripeError(error) ? Number(header(error, 'retry-after')) : NaN;
          this.logger.debug({ endpoint: options.endpoint, account: options.account, attempt: attemptNumber, status: isStripeError(error) ? error.statusCode : undefined, message: error.message }, 'retrying a request');
          if (Number.isFinite(retryAfter) && retryAfter > 0) await new Promise((r) => setTimeout(r, Math.min(retryAfter, 60) * 1000));
        },
      },
    );
  }

  /** Lists one page. */
  list<T>(path: string, params: QueryParams, options: RequestOptions): Promise<StripeReply<StripeList<T>>> {
    return this.get<StripeList<T>>(path, params, options);
  }
}

