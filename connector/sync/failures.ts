// What a failed request means for the run: a stream the key may not read (skip it, say which
// permission to grant), a connected account that is gone (skip the account), or the end of the run.
import Stripe from 'stripe';
import { UserError, type FailureType } from '../errors.js';
import { isStripeError } from '../stripe/client.js';

export type Failure =
  | { readonly kind: 'permission'; readonly permission: string | null; readonly message: string }
  | { readonly kind: 'account'; readonly message: string }
  | { readonly kind: 'fatal'; readonly error: UserError };

/** The permission a 403 names ("Having the 'rak_charge_read' permission would allow…"). */
export function permissionNamed(message: string): string | null {
  return /Having the '([a-z_]+)' permission/.exec(message)?.[1] ?? null;
}

export function authenticationMessage(stripeMessage: string): string {
  return (
    `Authentication failed: Stripe rejected the API key (${stripeMessage}). The key may have been deleted, rolled, ` +
    'revoked or mistyped. Create a new restricted key with Read access (Dashboard → Developers → API keys → ' +
    'Create restricted key) and put it in api_key.'
  );
}

type ConnectionError = InstanceType<typeof Stripe.errors.StripeConnectionError>;

/** The network's own words for a failed connection ("connect ECONNREFUSED 127.0.0.1:9"), which the SDK keeps as its detail. */
export function networkError(error: ConnectionError): string {
  const detail: unknown = error.detail;
  return detail instanceof Error ? detail.message : error.message;
}

/** Stripe out of reach, said the same way by check, read and load. */
export function unreachableMessage(apiBase: URL, error: ConnectionError): string {
  return `Could not reach Stripe at ${apiBase.origin}: ${networkError(error)}. Check the network, or api_base.`;
}

export function classifyFailure(error: unknown, onConnectedAccount: boolean): Failure {
  if (error instanceof UserError) return { kind: 'fatal', error };
  if (!isStripeError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'fatal', error: new UserError(`Unexpected failure: ${message}`, 'system_error') };
  }
  if (error instanceof Stripe.errors.StripeAuthenticationError) {
    return { kind: 'fatal', error: new UserError(authenticationMessage(error.message), 'config_error') };
  }
  if (error instanceof Stripe.errors.StripePermissionError) {
    if (error.code === 'account_invalid') return { kind: 'account', message: error.message };
    if (onConnectedAccount && /does not have any Connect permissions/.test(error.message)) {
      return { kind: 'account', message: `${error.message} Grant the key Read as Connect permissions, or set connected_accounts to "none".` };
    }
    return { kind: 'permission', permission: permissionNamed(error.message), message: error.message };
  }
  const status = error.statusCode ?? 0;
  const failureType: FailureType = status === 429 || status >= 500 || error instanceof Stripe.errors.StripeConnectionError ? 'transient_error' : 'system_error';
  const advice = failureType === 'transient_error' ? ' Stripe kept failing after retries; run again later: the next run resumes from the last state.' : '';
  return { kind: 'fatal', error: new UserError(`Stripe request failed (${status || 'no response'}): ${error.message}.${advice}`, failureType) };
}
