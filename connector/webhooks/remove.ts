// `webhooks remove`: deletes stripe-elt's endpoints (those at one URL, or all of them) and drops
// their secrets from the secret file. An endpoint is deleted at Stripe before its secret leaves the
// file, so that a failure in between never leaves an endpoint whose secret nobody holds.
import type { SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { WebhookEndpointsApi } from './endpoint-api.js';
import { roleOf, type EndpointRole } from './our-endpoints.js';
import { requestFailure } from './request-failures.js';
import { writeWebhookSecrets, type EndpointSecret } from './secret-file.js';

export interface RemoveRequest {
  /** One URL's endpoints, or every one of ours. */
  readonly which: { readonly url: string } | 'all-ours';
  readonly secretFile?: { readonly path: string; readonly held: readonly EndpointSecret[] };
}

export interface RemovedEndpoint {
  readonly id: string;
  readonly url: string;
  readonly role: EndpointRole;
}

export interface RemoveResult {
  readonly removed: readonly RemovedEndpoint[];
  /**
   * Secrets dropped from the file: the removed endpoints' only. The file does not say which mode an
   * endpoint is in, so a secret of an endpoint this key does not see (the other mode's) stays.
   */
  readonly secretsDropped: number;
  readonly secretsKept: number;
  /** Endpoints at the URL that are not stripe-elt's: left as they are. */
  readonly others: readonly string[];
}

export async function removeEndpoints(api: WebhookEndpointsApi, config: SourceConfig, request: RemoveRequest): Promise<RemoveResult> {
  const { which, secretFile } = request;
  const atUrl = (url: string) => which === 'all-ours' || url === which.url;
  const removed: RemovedEndpoint[] = [];
  let secrets = [...(secretFile?.held ?? [])];
  let others: string[] = [];
  try {
    const existing = await api.list();
    others = existing.filter((endpoint) => which !== 'all-ours' && endpoint.url === which.url && roleOf(endpoint) === undefined).map((endpoint) => endpoint.id);
    for (const endpoint of existing) {
      const role = roleOf(endpoint);
      if (!role || !atUrl(endpoint.url)) continue;
      await api.remove(endpoint.id);
      removed.push({ id: endpoint.id, url: endpoint.url, role });
      if (secretFile && secrets.some((held) => held.id === endpoint.id)) {
        secrets = secrets.filter((held) => held.id !== endpoint.id);
        writeWebhookSecrets(secretFile.path, secrets);
      }
    }
  } catch (error) {
    const failure = requestFailure(error, config, 'remove');
    if (!(failure instanceof UserError)) throw failure;
    const before = removed.length === 0 ? 'No endpoint was removed.' : `Before that, ${removed.map((endpoint) => endpoint.id).join(', ')} ${removed.length === 1 ? 'was' : 'were'} removed${secretFile ? `, and ${removed.length === 1 ? 'its secret' : 'their secrets'} dropped from ${secretFile.path}` : ''}.`;
    throw new UserError(`${failure.message} ${before}`, failure.failureType);
  }
  return { removed, secretsDropped: (secretFile?.held.length ?? 0) - secrets.length, secretsKept: secrets.length, others };
}
