// `webhooks register|list|remove`: stripe-elt's webhook endpoints on the Stripe account, said in
// sentences. Every argument is checked before the first request; no secret is ever printed.
import type { SourceConfig } from '../config.js';
import { WebhookEndpointsApi, type WebhookEndpoint } from '../webhooks/endpoint-api.js';
import { ROLES, roleOf, type EndpointRole } from '../webhooks/our-endpoints.js';
import { checkSecretFile, checkWebhookUrl } from '../webhooks/preflight.js';
import { registerEndpoints } from '../webhooks/register.js';
import { removeEndpoints } from '../webhooks/remove.js';
import { requestFailure } from '../webhooks/request-failures.js';

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function notOursLine(others: readonly string[], url: string): string[] {
  if (others.length === 0) return [];
  return [`${others.join(', ')} at ${url} ${others.length === 1 ? 'is' : 'are'} not stripe-elt's (no metadata stripe_elt): left as ${others.length === 1 ? 'it is' : 'they are'}.`];
}

export interface RegisterOptions {
  readonly config: SourceConfig;
  readonly configPath: string;
  readonly url: string;
  readonly secretFile: string;
}

export async function webhooksRegister(options: RegisterOptions): Promise<string> {
  const url = checkWebhookUrl(options.url);
  const held = checkSecretFile(options.secretFile);
  const roles: EndpointRole[] = options.config.connectedAccounts === 'none' ? ['platform'] : ['platform', 'connect'];
  const result = await registerEndpoints(new WebhookEndpointsApi(options.config), options.config, { url, roles, secretFile: options.secretFile, held, configPath: options.configPath });
  const lines = result.endpoints.map((endpoint) => {
    const { name, receives } = ROLES[endpoint.role];
    const what = endpoint.action === 'created' ? 'Created' : 'Reused';
    const changed = endpoint.changes.length > 0 ? `; updated ${endpoint.changes.join(' and ')}` : '';
    return `${what} ${name} ${endpoint.id} at ${url}, for ${receives} (connect=${endpoint.role === 'connect'}): ${plural(endpoint.eventTypes, 'event type')}, API version ${endpoint.apiVersion}${changed}.`;
  });
  if (!roles.includes('connect')) lines.push('No Connect endpoint: connected_accounts is "none", so connected accounts\' events are not needed.');
  lines.push(...notOursLine(result.others, url));
  const created = result.endpoints.filter((endpoint) => endpoint.action === 'created').length;
  lines.push(
    created === 0
      ? `Nothing was created: every endpoint was registered already, and their signing secrets stay in ${options.secretFile}.`
      : `${created === 1 ? 'Its signing secret is' : 'Their signing secrets are'} in ${options.secretFile} (readable by its owner only); stripe-elt serve --secret-file ${options.secretFile} reads ${created === 1 ? 'it' : 'them'}.`,
  );
  return lines.join('\n');
}

function describe(endpoint: WebhookEndpoint): string {
  const role = roleOf(endpoint);
  const whose = role ? `${ROLES[role].name.replace(/^the /, "stripe-elt's ")}, for ${ROLES[role].receives}` : "not stripe-elt's";
  const events = endpoint.enabled_events.includes('*') ? 'every event type' : plural(endpoint.enabled_events.length, 'event type');
  return `${endpoint.id} ${endpoint.url}: ${endpoint.status}, API version ${endpoint.api_version ?? "the account's default"}, ${events}; ${whose}.`;
}

export async function webhooksList(config: SourceConfig): Promise<string> {
  let endpoints: WebhookEndpoint[];
  try {
    endpoints = await new WebhookEndpointsApi(config).list();
  } catch (error) {
    throw requestFailure(error, config, 'list');
  }
  if (endpoints.length === 0) return `The account has no webhook endpoints in ${config.mode} mode; stripe-elt webhooks register creates stripe-elt's.`;
  const ours = endpoints.filter((endpoint) => roleOf(endpoint) !== undefined).length;
  return [`${plural(endpoints.length, 'webhook endpoint')} in ${config.mode} mode, ${ours} of them stripe-elt's:`, ...endpoints.map(describe)].join('\n');
}

export interface RemoveOptions {
  readonly config: SourceConfig;
  /** stripe-elt's endpoints at one URL, or all of them. */
  readonly which: { readonly url: string } | 'all-ours';
  readonly secretFile?: string | undefined;
}

export async function webhooksRemove(options: RemoveOptions): Promise<string> {
  const url = options.which === 'all-ours' ? undefined : checkWebhookUrl(options.which.url);
  const secretFile = options.secretFile === undefined ? undefined : { path: options.secretFile, held: checkSecretFile(options.secretFile) };
  const result = await removeEndpoints(new WebhookEndpointsApi(options.config), options.config, { which: url === undefined ? 'all-ours' : { url }, ...(secretFile ? { secretFile } : {}) });
  const where = url === undefined ? 'on the account' : `at ${url}`;
  if (result.removed.length === 0) return [`No stripe-elt endpoint ${where} in ${options.config.mode} mode: nothing was removed.`, ...notOursLine(result.others, url ?? '')].join('\n');
  const lines = result.removed.map((endpoint) => `Removed ${ROLES[endpoint.role].name} ${endpoint.id} at ${endpoint.url}.`);
  lines.push(...notOursLine(result.others, url ?? ''));
  if (secretFile) {
    const kept = result.secretsKept > 0 ? `; it still holds ${plural(result.secretsKept, 'secret')} of other endpoints` : '';
    lines.push(`Dropped ${plural(result.secretsDropped, 'signing secret')} from ${secretFile.path}${kept}.`);
  } else {
    lines.push('No --secret-file was given: a file holding their secrets keeps them (they verify nothing now).');
  }
  return lines.join('\n');
}
