// A failed request of a `webhooks` command as the one sentence it ends with: which permission the
// key lacks and where to grant it, a key Stripe refuses, Stripe out of reach.
import Stripe from 'stripe';
import type { SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import { isStripeError } from '../stripe/client.js';
import { permissionNamed, unreachableMessage } from '../sync/failures.js';

export type WebhooksCommand = 'register' | 'list' | 'remove';

/** `list` reads endpoints; `register` and `remove` change them. */
const ACCESS_NEEDED: Record<WebhooksCommand, 'Read' | 'Write'> = { register: 'Write', list: 'Read', remove: 'Write' };

const withoutFinalStop = (text: string) => text.replace(/\.\s*$/, '');

export function requestFailure(error: unknown, config: SourceConfig, command: WebhooksCommand): Error {
  if (!isStripeError(error)) return error as Error;
  if (error instanceof Stripe.errors.StripeConnectionError) return new UserError(unreachableMessage(config.apiBase, error), 'transient_error');
  if (error instanceof Stripe.errors.StripeAuthenticationError) {
    return new UserError(`Authentication failed: Stripe rejected the API key (${withoutFinalStop(error.message)}). Check api_key in the config, or STRIPE_API_KEY.`);
  }
  if (error instanceof Stripe.errors.StripePermissionError) {
    const permission = permissionNamed(error.message);
    if (permission?.startsWith('rak_webhook_')) {
      const access = ACCESS_NEEDED[command];
      return new UserError(
        `The API key lacks ${access} on webhook endpoints (${permission}), which webhooks ${command} needs. Grant it in the Stripe Dashboard: ` +
          `Developers → API keys → the restricted key → Edit → "Webhook Endpoints: ${access}", then run the command again.`,
      );
    }
    return new UserError(`Stripe refused a request of webhooks ${command}: ${withoutFinalStop(error.message)}.`);
  }
  const status = error.statusCode;
  const transient = status === undefined || status === 429 || status >= 500;
  return new UserError(`Stripe answered ${status ?? 'without a status'} to a request of webhooks ${command}: ${withoutFinalStop(error.message)}.`, transient ? 'transient_error' : 'system_error');
}
