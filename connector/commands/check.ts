// `check`: can this configuration read Stripe, and what will it see? Every answer says what to do.
import Stripe from 'stripe';
import { resolveConfig, type SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ConnectionStatusMessage } from '../protocol/messages.js';
import { STREAMS, STREAM_NAMES } from '../streams/catalog.js';
import { StripeApi } from '../stripe/client.js';
import { listConnectedAccounts, notConnected, resolvePlatform, type Platform } from '../sync/accounts.js';
import { permissionNamed } from '../sync/failures.js';

const RESTRICTED_KEY_ADVICE =
  'A read-only restricted key is recommended: in the Stripe Dashboard, Developers → API keys → Create restricted key, ' +
  'give it Read on every resource this source reads (and Read as Connect permissions to read connected accounts), ' +
  'and use it as api_key.';

function status(ok: boolean, lines: readonly string[]): ConnectionStatusMessage {
  return { type: 'CONNECTION_STATUS', connectionStatus: { status: ok ? 'SUCCEEDED' : 'FAILED', message: lines.join(' ') } };
}

function unreachable(config: SourceConfig, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `Could not reach Stripe at ${config.apiBase.origin}: ${message}. Check the network, or api_base.`;
}

export async function runCheck(rawConfig: unknown, source: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ConnectionStatusMessage> {
  let config: SourceConfig;
  try {
    config = resolveConfig(rawConfig, source, env);
  } catch (error) {
    if (error instanceof UserError) return status(false, [error.message]);
    throw error;
  }
  // A check answers within seconds: it retries briefly, then reports what failed.
  const api = new StripeApi(config, logger, { maxRetryTimeMs: 4_000 });
  const lines: string[] = [];

  // The key, and the account it belongs to.
  let platform: Platform;
  try {
    platform = await resolvePlatform(api, config);
  } catch (error) {
    if (error instanceof UserError) return status(false, [error.message]);
    if (error instanceof Stripe.errors.StripeConnectionError) return status(false, [unreachable(config, error)]);
    throw error;
  }
  const accountId = platform.id;
  lines.push(
    platform.verified
      ? `Connected to Stripe account ${platform.id}${platform.name ? ` (${platform.name})` : ''} in ${config.mode} mode with a ${config.keyKind} key.`
      : `The key may not read its account (grant ${platform.missingPermission} to let check verify it); using account_id ${platform.id}. Mode: ${config.mode}.`,
  );
  if (config.keyKind === 'secret') lines.push(`Warning: this is a secret key with full access to the account. ${RESTRICTED_KEY_ADVICE}`);

  // Which streams the key may read, asking each list endpoint for one object.
  const probes = STREAM_NAMES.filter((name) => STREAMS[name].scope === 'every_account');
  const denied = (
    await Promise.all(
      probes.map(async (name) => {
        try {
          await api.get(STREAMS[name].path, { limit: 1 }, { endpoint: `GET ${STREAMS[name].path}` });
          return null;
        } catch (error) {
          if (error instanceof Stripe.errors.StripePermissionError) return `${name} (grant ${permissionNamed(error.message) ?? 'Read access'})`;
          throw error;
        }
      }),
    )
  ).filter((d): d is string => d !== null);
  lines.push(
    denied.length === 0
      ? 'The key may read every stream.'
      : `The key may not read: ${denied.join(', ')}. These streams will be skipped with a warning; grant the permissions to read them.`,
  );

  // Connected accounts.
  if (config.connectedAccounts === 'none') {
    lines.push('Connected accounts are not read (connected_accounts is "none").');
  } else {
    const listing = await listConnectedAccounts(api);
    if ('forbidden' in listing) {
      lines.push(
        `Connected accounts unavailable: the key has no Connect permission to list them (${listing.forbidden}). Only the platform ${accountId} will be read; grant Read as Connect permissions to read connected accounts.`,
      );
    } else {
      const missing = notConnected(config, listing.accounts);
      if (missing.length > 0) {
        return status(false, [...lines, `connected_accounts lists ${missing.join(', ')}, not connected to this platform (or not existing). Remove them, or connect them first.`]);
      }
      const reading = Array.isArray(config.connectedAccounts) ? config.connectedAccounts.length : listing.accounts.length;
      lines.push(`${listing.accounts.length} connected account${listing.accounts.length === 1 ? '' : 's'} reachable; ${reading} will be read.`);
      const first = Array.isArray(config.connectedAccounts) ? config.connectedAccounts[0] : listing.accounts[0]?.id;
      if (first) {
        try {
          await api.get('/v1/customers', { limit: 1 }, { endpoint: 'GET /v1/customers', account: first });
        } catch (error) {
          if (!(error instanceof Stripe.errors.StripePermissionError)) throw error;
          lines.push(`But reading a connected account failed: ${error.message} Grant the key Read as Connect permissions.`);
        }
      }
    }
  }
  return status(true, lines);
}
