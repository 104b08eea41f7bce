// Stripe's webhook endpoints API, through the real `stripe` SDK at the config's api_base and our
// pinned API version: list, create, update, delete. A few requests a command, each retried as
// Stripe advises (p-retry, the SDK's own retries off); a create carries an idempotency key, so
// that a retried one never makes a second endpoint.
import { randomUUID } from 'node:crypto';
import pRetry from 'p-retry';
import Stripe from 'stripe';
import type { SourceConfig } from '../config.js';
import { retryAdvice, stripeSdk } from '../stripe/client.js';

export type WebhookEndpoint = Stripe.WebhookEndpoint;
export type CreateParams = Stripe.WebhookEndpointCreateParams;
export type UpdateParams = Stripe.WebhookEndpointUpdateParams;

export class WebhookEndpointsApi {
  private readonly endpoints: Stripe.WebhookEndpointResource;

  constructor(config: SourceConfig) {
    this.endpoints = stripeSdk(config).webhookEndpoints;
  }

  /** Every endpoint of the account, page by page. */
  async list(): Promise<WebhookEndpoint[]> {
    const all: WebhookEndpoint[] = [];
    for (let startingAfter: string | undefined; ; ) {
      const after = startingAfter;
      const page = await retried(() => this.endpoints.list({ limit: 100, ...(after ? { starting_after: after } : {}) }));
      all.push(...page.data);
      const last = page.data.at(-1);
      if (!page.has_more || !last) return all;
      startingAfter = last.id;
    }
  }

  /** Creates an endpoint; the answer holds its signing secret (Stripe's only showing of it). */
  create(params: CreateParams): Promise<WebhookEndpoint> {
    const idempotencyKey = randomUUID();
    return retried(() => this.endpoints.create(params, { idempotencyKey }));
  }

  update(id: string, params: UpdateParams): Promise<WebhookEndpoint> {
    return retried(() => this.endpoints.update(id, params));
  }

  /** Deletes an endpoint; one already gone (a retry after a lost answer, or a deletion meanwhile) is no failure. */
  async remove(id: string): Promise<void> {
    try {
      await retried(() => this.endpoints.del(id));
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404)) throw error;
    }
  }
}

function retried<T>(request: () => Promise<T>): Promise<T> {
  return pRetry(request, {
    retries: 5,
    minTimeout: 500,
    maxTimeout: 10_000,
    randomize: true,
    shouldRetry: ({ error }) => retryAdvice(error).retry,
  });
}
