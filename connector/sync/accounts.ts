// Which accounts a run reads: the platform (the key's own account) and its connected accounts,
// as `connected_accounts` asks and the key allows.
import Stripe from 'stripe';
import type { SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import { retryAdvice, type StripeApi, type StripeReply } from '../stripe/client.js';
import { authenticationMessage, permissionNamed, unreachableMessage } from './failures.js';
import type { StripeObject } from './stream-output.js';

const FIRST_REQUEST_RETRY_MS = 10_000;
/** How long the first request tries when nothing answers at all: a couple of quick attempts. */
const NOTHING_THERE_RETRY_MS = 500;
/** Network errors that retrying for seconds will not mend: nothing listens there, or there is no such host. */
const NOTHING_THERE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function nothingThere(error: unknown): boolean {
  const detail: unknown = error instanceof Stripe.errors.StripeConnectionError ? error.detail : undefined;
  return NOTHING_THERE.has(String((detail as { code?: unknown } | undefined)?.code));
}

/**
 * `GET /v1/account`, the run's first request. If Stripe cannot be reached at all, say so soon
 * rather than retry for minutes; if nothing answers at all, at once.
 */
async function firstRequest<T>(api: StripeApi): Promise<StripeReply<T>> {
  const budget = Math.min(FIRST_REQUEST_RETRY_MS, api.maxRetryTimeMs);
  const attempt = (maxRetryTimeMs: number) => api.get<T>('/v1/account', {}, { endpoint: 'GET /v1/account', maxRetryTimeMs });
  try {
    return await attempt(Math.min(NOTHING_THERE_RETRY_MS, budget));
  } catch (error) {
    if (nothingThere(error) || !retryAdvice(error).retry || budget <= NOTHING_THERE_RETRY_MS) throw error;
    return await attempt(budget - NOTHING_THERE_RETRY_MS);
  }
}

export interface Platform {
  readonly id: string;
  /** The business name Stripe holds for it, if any. */
  readonly name: string | undefined;
  /** When the account was created (none if the key may not read it). */
  readonly created: number | undefined;
  /** Stripe's clock when it answered. */
  readonly serverTime: number;
  /** False when the key may not read its own account and account_id stood in. */
  readonly verified: boolean;
  /** The permission that would let the key read its account, when it may not. */
  readonly missingPermission?: string;
}

/**
 * The key's account, from `GET /v1/account`, which must be config.account_id if that is set;
 * account_id stands in if the key may not read its account. A key Stripe refuses, an account
 * that is not the key's, or Stripe out of reach is a UserError.
 */
export async function resolvePlatform(api: StripeApi, config: SourceConfig): Promise<Platform> {
  let reply: StripeReply<StripeObject & { business_profile?: { name?: string | null } }>;
  try {
    reply = await firstRequest(api);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeConnectionError) throw new UserError(unreachableMessage(config.apiBase, error), 'transient_error');
    if (error instanceof Stripe.errors.StripeAuthenticationError) throw new UserError(authenticationMessage(error.message));
    if (!(error instanceof Stripe.errors.StripePermissionError)) throw error;
    const permission = permissionNamed(error.message) ?? 'rak_account_read';
    if (!config.accountId) {
      throw new UserError(`The key may not read its own account, so the platform's account ID is unknown. Grant the key the ${permission} permission, or set account_id.`);
    }
    return { id: config.accountId, name: undefined, created: undefined, serverTime: Math.floor(Date.now() / 1000), verified: false, missingPermission: permission };
  }
  const account = reply.body;
  if (config.accountId && account.id !== config.accountId) {
    throw new UserError(`The API key belongs to Stripe account ${account.id}, not to ${config.accountId} (account_id). Use a key of ${config.accountId}, or correct account_id.`);
  }
  return { id: account.id, name: account.business_profile?.name ?? undefined, created: account.created, serverTime: reply.serverTime, verified: true };
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

/** The accounts connected_accounts lists that are not among the platform's connected accounts. */
export function notConnected(config: SourceConfig, listed: readonly StripeObject[]): string[] {
  if (!Array.isArray(config.connectedAccounts)) return [];
  const ids = new Set(listed.map((a) => a.id));
  return config.connectedAccounts.filter((id) => !ids.has(id));
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
