// How stripe-elt knows its own webhook endpoints among the account's: Stripe's endpoint object
// does not say whether it is a Connect endpoint, so ours carry `metadata[stripe_elt]`, `platform`
// or `connect`, and a description a person reads in the Dashboard.
import { CONNECT_EVENT_TYPES, PLATFORM_EVENT_TYPES, type EventType } from './event-types.js';
import type { WebhookEndpoint } from './endpoint-api.js';

export type EndpointRole = 'platform' | 'connect';

export const OUR_METADATA_KEY = 'stripe_elt';

interface RoleDefinition {
  /** As a sentence names the endpoint: "the platform endpoint". */
  readonly name: string;
  /** What it receives, for messages. */
  readonly receives: string;
  /** The endpoint's `description` at Stripe. */
  readonly description: string;
  readonly eventTypes: readonly EventType[];
}

export const ROLES: Readonly<Record<EndpointRole, RoleDefinition>> = {
  platform: {
    name: 'the platform endpoint',
    receives: "the platform account's own events",
    description: "stripe-elt: the platform account's own events, for stripe-elt serve",
    eventTypes: PLATFORM_EVENT_TYPES,
  },
  connect: {
    name: 'the Connect endpoint',
    receives: "the connected accounts' events",
    description: "stripe-elt: the connected accounts' events (connect=true), for stripe-elt serve",
    eventTypes: CONNECT_EVENT_TYPES,
  },
};

/** The role of one of our endpoints; undefined for an endpoint that is not stripe-elt's. */
export function roleOf(endpoint: WebhookEndpoint): EndpointRole | undefined {
  const mark = endpoint.metadata?.[OUR_METADATA_KEY];
  return mark === 'platform' || mark === 'connect' ? mark : undefined;
}
