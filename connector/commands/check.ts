// `check`: can this configuration read Stripe, and what will it see? Every answer says what to do,
// and every way it can fail ends in a CONNECTION_STATUS whose message names the cause.
import Stripe from 'stripe';
import { readJsonFile, resolveConfig, type SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ConnectionStatusMessage } from '../protocol/messages.js';
import { STREAMS, STREAM_NAMES, type StreamName } from '../streams/catalog.js';
import { StripeApi, isStripeError } from '../stripe/client.js';
import { listConnectedAccounts, notConnected, resolvePlatform, type Platform } from '../sync/accounts.js';
import { permissionNamed, unreachableMessage } from '../sync/failures.js';

const RESTRICTED_KEY_ADVICE =
  'A read-only restricted key is recommended: in the Stripe Dashboard, Developers → API keys → Create restricted key, ' +
  'give it Read on every resource this source reads (and Read as Connect permissions to read connected accounts), ' +
  'and use it as api_key.';

/** A check answers within seconds: it retries briefly, then reports what failed. */
const CHECK_RETRY_MS = 4_000;

function status(ok: boolean, lines: readonly string[]): ConnectionStatusMessage {
  return { type: 'CONNECTION_STATUS', connectionStatus: { status: ok ? 'SUCCEEDED' : 'FAILED', message: lines.join(' ') } };
}

const withoutFinalStop = (text: string) => text.replace(/\.\s*$/, '');

/** The one sentence for whatever ended a check before its answer. */
function failureSentence(config: SourceConfig, error: unknown): string {
  if (error instanceof UserError) return error.message;
  if (error instanceof Stripe.errors.StripeConnectionError) return unreachableMessage(config.apiBase, error);
  if (isStripeError(error)) {
    const said = withoutFinalStop(error.message);
    const code = error.statusCode;
    if (code === undefined) return `The answer from ${config.apiBase.origin} could not be read (${said}): is api_base the address of Stripe's API?`;
    if (code === 429 || code >= 500) {
      return `Stripe answered ${code} (${said}) to every try for ${CHECK_RETRY_MS / 1000} seconds; it may be having trouble (https://status.stripe.com): run check again later.`;
    }
    return `Stripe refused a request of check with ${code}: ${said}.`;
  }
  const said = withoutFinalStop(error instanceof Error ? error.message : String(error));
  return `check failed on an unexpected error: ${said}. LOG_LEVEL=debug shows where; please report it.`;
}

/** `check --config PATH`: the CONNECTION_STATUS for a config file, whatever happens on the way. */
export async function runCheck(path: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ConnectionStatusMessage> {
  let config: SourceConfig;
  try {
    config = resolveConfig(readJsonFile(path, 'config'), path, env);
  } catch (error) {
    if (error instanceof UserError) return status(false, [error.message]);
    throw error;
  }
  try {
    return await checkConnection(config, logger);
  } catch (error) {
    logger.debug({ err: error }, 'check failed');
    return status(false, [failureSentence(config, error)]);
  }
}

async function checkConnection(config: SourceConfig, logger: Logger): Promise<ConnectionStatusMessage> {
  const api = new StripeApi(config, logger, { maxRetryTimeMs: CHECK_RETRY_MS });
  const lines: string[] = [];

  // The key, and the account it belongs to.
  const platform: Platform = await resolvePlatform(api, config);
  const accountId = platform.id;
  lines.push(
    platform.verified
      ? `Connected to Stripe account ${platform.id}${platform.name ? ` (${platform.name})` : ''} in ${config.mode} mode with a ${config.keyKind} key.`
      : `The key may not read its account (grant ${platform.missingPermission} to let check verify it); using account_id ${platform.id}. Mode: ${config.mode}.`,
  );
  if (config.keyKind === 'secret') lines.push(`Warning: this is a secret key with full access to the account. ${RESTRICTED_KEY_ADVICE}`);

  // Which streams the key may read, asking each list endpoint for one object.
  const probes = STREAM_NAMES.filter((name) => STREAMS[name].scope === 'every_account');
  const denied = new Map<StreamName, string>();
  await Promise.all(
    probes.map(async (name) => {
      try {
        await api.get(STREAMS[name].path, { limit: 1 }, { endpoint: `GET ${STREAMS[name].path}` });
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripePermissionError)) throw error;
        denied.set(name, permissionNamed(error.message) ?? 'Read access');
      }
    }),
  );
  const events = denied.get('events');
  const skipped = probes.filter((name) => name !== 'events' && denied.has(name)).map((name) => `${name} (grant ${denied.get(name)})`);
  if (skipped.length > 0) lines.push(`The key may not read: ${skipped.join(', ')}. These streams will be skipped with a warning; grant the permissions to read them.`);
  else if (!events) lines.push('The key may read every stream.');
  if (events) {
    return status(false, [
      ...lines,
      `The key may not read events: grant it ${events} (Read on Events). Incremental syncs need it: after the first sync, updates and deletions are learned from events.`,
    ]);
  }

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
