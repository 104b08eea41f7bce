// `webhooks register`: makes the account's webhook endpoints for one URL what stripe-elt needs —
// the platform endpoint, and the Connect one when connected accounts are read — reusing those of
// ours that the secret file holds the secrets of. Everything that would stop it is found before
// the first change; each new endpoint's secret is in the file before the next request.
import type Stripe from 'stripe';
import type { SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import { STRIPE_API_VERSION } from '../stripe/client.js';
import type { WebhookEndpoint, WebhookEndpointsApi } from './endpoint-api.js';
import { OUR_METADATA_KEY, ROLES, roleOf, type EndpointRole } from './our-endpoints.js';
import { requestFailure } from './request-failures.js';
import { isWebhookSecret, writeWebhookSecrets, type EndpointSecret } from './secret-file.js';

export interface RegisterRequest {
  readonly url: string;
  readonly roles: readonly EndpointRole[];
  readonly secretFile: string;
  /** What the file held before (checked by checkSecretFile). */
  readonly held: readonly EndpointSecret[];
  /** The command line's config option, for the commands a message suggests. */
  readonly configPath: string;
}

export interface RegisteredEndpoint {
  readonly role: EndpointRole;
  readonly id: string;
  readonly eventTypes: number;
  readonly apiVersion: string;
  readonly action: 'created' | 'reused';
  /** What a reuse changed: "its event types (2 added)", "enabled it again". */
  readonly changes: readonly string[];
}

export interface RegisterResult {
  readonly endpoints: readonly RegisteredEndpoint[];
  /** Endpoints at the same URL that are not stripe-elt's: left as they are. */
  readonly others: readonly string[];
}

type Step =
  | { readonly role: EndpointRole; readonly kind: 'create' }
  | { readonly role: EndpointRole; readonly kind: 'reuse'; readonly endpoint: WebhookEndpoint; readonly changes: readonly string[]; readonly enable: boolean; readonly events: boolean };

/** The difference between two lists of event types, in words; undefined when they hold the same types. */
function eventTypesChange(current: readonly string[], wanted: readonly string[]): string | undefined {
  const added = wanted.filter((type) => !current.includes(type)).length;
  const removed = current.filter((type) => !wanted.includes(type)).length;
  if (added === 0 && removed === 0) return undefined;
  return `its event types (${[added > 0 ? `${added} added` : '', removed > 0 ? `${removed} removed` : ''].filter(Boolean).join(', ')})`;
}

function plan(role: EndpointRole, endpoints: readonly WebhookEndpoint[], request: RegisterRequest): Step {
  const ours = endpoints.filter((endpoint) => endpoint.url === request.url && roleOf(endpoint) === role);
  if (ours.length === 0) return { role, kind: 'create' };
  const endpoint = ours.find((candidate) => request.held.some((secret) => secret.id === candidate.id));
  const { name } = ROLES[role];
  if (!endpoint) {
    const ids = ours.map((candidate) => candidate.id).join(', ');
    throw new UserError(
      `${capitalised(name)} ${ids} at ${request.url} is stripe-elt's, but ${request.secretFile} does not hold its signing secret, which Stripe shows only when it creates an endpoint. ` +
        `Either remove it and register again (stripe-elt webhooks remove --config ${request.configPath} --url ${request.url}, then this command again), ` +
        `or roll its secret in the Stripe Dashboard (Developers → Webhooks → the endpoint → Roll secret) and add {"id": "${ours[0]?.id}", "url": "${request.url}", "connect": ${role === 'connect'}, "secret": "<its new signing secret>"} to the "endpoints" of ${request.secretFile}.`,
    );
  }
  if (endpoint.api_version !== STRIPE_API_VERSION) {
    throw new UserError(
      `${capitalised(name)} ${endpoint.id} at ${request.url} sends events at API version ${endpoint.api_version ?? "the account's default"}, not stripe-elt's ${STRIPE_API_VERSION}, and Stripe cannot change an endpoint's API version. ` +
        `Remove it and register again (a new endpoint, with a new secret): stripe-elt webhooks remove --config ${request.configPath} --url ${request.url} --secret-file ${request.secretFile}, then this command again.`,
    );
  }
  const eventsChange = eventTypesChange(endpoint.enabled_events, ROLES[role].eventTypes);
  const enable = endpoint.status === 'disabled';
  const changes = [...(eventsChange ? [eventsChange] : []), ...(enable ? ['its status (enabled again: Stripe had disabled it)'] : [])];
  return { role, kind: 'reuse', endpoint, changes, enable, events: eventsChange !== undefined };
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export async function registerEndpoints(api: WebhookEndpointsApi, config: SourceConfig, request: RegisterRequest): Promise<RegisterResult> {
  let others: string[] = [];
  let secrets = [...request.held];
  const done: RegisteredEndpoint[] = [];
  try {
    const existing = await api.list();
    const steps = request.roles.map((role) => plan(role, existing, request));
    others = existing.filter((endpoint) => endpoint.url === request.url && roleOf(endpoint) === undefined).map((endpoint) => endpoint.id);
    for (const step of steps) {
      const { eventTypes } = ROLES[step.role];
      if (step.kind === 'reuse') {
        if (step.changes.length > 0) {
          await api.update(step.endpoint.id, { ...(step.events ? { enabled_events: [...eventTypes] } : {}), ...(step.enable ? { disabled: false } : {}) });
        }
        done.push({ role: step.role, id: step.endpoint.id, eventTypes: eventTypes.length, apiVersion: STRIPE_API_VERSION, action: 'reused', changes: step.changes });
        continue;
      }
      const created = await api.create({
        url: request.url,
        enabled_events: [...eventTypes],
        api_version: STRIPE_API_VERSION as Stripe.WebhookEndpointCreateParams.ApiVersion,
        connect: step.role === 'connect',
        description: ROLES[step.role].description,
        metadata: { [OUR_METADATA_KEY]: step.role },
      });
      if (!created.secret || !isWebhookSecret(created.secret)) {
        // An endpoint whose secret nobody holds can never be verified: take it back.
        await api.remove(created.id);
        throw new UserError(`Stripe created ${ROLES[step.role].name} ${created.id} without a signing secret in its answer; it was deleted again. Run the command again.`, 'system_error');
      }
      const connect = step.role === 'connect';
      // Added beside what the file holds: an entry for the same URL may be the other mode's endpoint, which this key does not see.
      secrets = [...secrets, { id: created.id, url: request.url, connect, secret: created.secret }];
      writeWebhookSecrets(request.secretFile, secrets);
      done.push({ role: step.role, id: created.id, eventTypes: eventTypes.length, apiVersion: STRIPE_API_VERSION, action: 'created', changes: [] });
    }
  } catch (error) {
    const failure = requestFailure(error, config, 'register');
    if (!(failure instanceof UserError)) throw failure;
    throw new UserError(`${failure.message} ${soFar(done, request.secretFile)}`, failure.failureType);
  }
  return { endpoints: done, others };
}

/** What a register that failed had done: nothing lost, and how to finish. */
function soFar(done: readonly RegisteredEndpoint[], secretFile: string): string {
  const created = done.filter((endpoint) => endpoint.action === 'created');
  if (created.length === 0) return `No endpoint was created, and nothing was written to ${secretFile}.`;
  const which = created.map((endpoint) => `${ROLES[endpoint.role].name} ${endpoint.id}`).join(' and ');
  return `Before that, ${which} was created, its signing secret written to ${secretFile}; run the command again to finish (it reuses what was created).`;
}
