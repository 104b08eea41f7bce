// Which accounts a run reads: the platform (the key's own account) and its connected accounts,
// as `connected_accounts` asks and the key allows.
import Stripe from 'stripe';
import type { SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { StripeApi } from '../stripe/client.js';
import { authenticationMessage, permissionNamed } from './failures.js';
import type { StripeObject } from './stream-output.js';

const FIRST_REQUEST_RETRY_MS = 10_000;

export interface Platform {
  readonly id: string;
  /** When the account was created (none if the key may not read it). */
  readonly created: number | undefined;
  /** Stripe's clock when it answered. */
  readonly serverTime: number;
  /** False when the key may not read its own account and account_id stood in. */
  readonly verified: boolean;
}

/** The key's account, from `GET /v1/account`; config.account_id stands in if the key may not read it. */
export async function resolvePlatform(api: StripeApi, config: SourceConfig): Promise<Platform> {
  try {
    // The first request: if Stripe cannot be reached at all, say so soon rather than retry for minutes.
    const reply = await api.get<StripeObject>('/v1/account', {}, { endpoint: 'GET /v1/account', maxRetryTimeMs: FIRST_REQUEST_RETRY_MS });
    return { id: reply.body.id, created: reply.body.created, serverTime: reply.serverTime, verified: true };
  } catch (error) {
    if (error instanceof Stripe.errors.StripeAuthenticationError) throw new UserError(authenticationMessage(error.message));
    if (error instanceof Stripe.errors.StripePermissionError && config.accountId) {
      return { id: config.accountId, created: undefined, serverTime: Math.floor(Date.now() / 1000), verified: false };
    }
    if (error instanceof Stripe.errors.StripePermissionError) {
      const permission = permissionNamed(error.message) ?? 'rak_account_read';
      throw new UserError(`The key may not read its own account, so the platform's account ID is unknown. Grant the key the ${permission} permission, or set account_id.`);
    }
    throw error;
  }
}

export interface ConnectedAccounts {
  /** Accounts to read, in the order Stripe lists them. */
  readonly ids: readonly string[];
  /** The platform's list of connected accounts (for the `accounts` stream), or null if unavailable. */
  readonly listed: readonly StripeObject[] | null;
  readonly serverTime: number | null;
  /** Why connected accounts could not be listed, if they could not. */
  readonly unavailable: string | null;
}

/** Lists the platform's connected accounts, page by page. Null when the key has no Connect permission. */
export async function listConnectedAccounts(api: StripeApi): Promise<{ accounts: StripeObject[]; serverTime: number } | { forbidden: string }> {
  const accounts: StripeObject[] = [];
  let after: string | undefined;
  let serverTime = 0;
  try {
    for (;;) {
      const reply = await api.list<StripeObject>('/v1/accounts', { limit: 100, starting_after: after }, { endpoint: 'GET /v1/accounts' });
      serverTime = reply.serverTime;
      accounts.push(...reply.body.data);
      const last = reply.body.data[reply.body.data.length - 1];
      if (!last || !reply.body.has_more) return { accounts, serverTime };
      after = last.id;
    }
  } catch (error) {
    if (error instanceof Stripe.errors.StripePermissionError) return { forbidden: error.message };
    if (error instanceof Stripe.errors.StripeAuthenticationError) throw new UserError(authenticationMessage(error.message));
    throw error;
  }
}

export async function connectedAccounts(api: StripeApi, config: SourceConfig, needListing: boolean): Promise<ConnectedAccounts> {
  if (config.connectedAccounts === 'none' && !needListing) return { ids: [], listed: null, serverTime: null, unavailable: null };
  const listing = await listConnectedAccounts(api);
  if ('forbidden' in listing) {
    const unavailable = `Connected accounts are unavailable: the key has no Connect permission to list them (${listing.forbidden}).`;
    // An explicit list can still be read through Stripe-Account if the key's Connect permissions allow it.
    const ids = Array.isArray(config.connectedAccounts) ? [...config.connectedAccounts] : [];
    return { ids, listed: null, serverTime: null, unavailable };
  }
  const all = listing.accounts.map((a) => a.id);
  const ids = config.connectedAccounts === 'all' ? all : config.connectedAccounts === 'none' ? [] : [...config.connectedAccounts];
  return { ids, listed: listing.accounts, serverTime: listing.serverTime, unavailable: null };
}
