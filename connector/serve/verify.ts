// Is a delivery from Stripe? Its `Stripe-Signature` is checked with the `stripe` SDK's own
// verification against each endpoint's secret (the platform's and the Connect endpoint's: either
// may have signed it; several `v1` signatures are allowed, as when a secret is being rolled), and
// its timestamp must be within Stripe's 300-second tolerance of our clock. Then the body must be a
// Stripe event: an `evt_` id, a type, a time, an object, a mode.
import Stripe from 'stripe';
import { z } from 'zod';
import type { StripeEvent } from '../sync/event-changes.js';
import type { EndpointSecret } from '../webhooks/secret-file.js';

/** Stripe's default: a signature older (or newer) than this is refused, so that a captured delivery cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const EventSchema = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9]+$/),
  type: z.string().min(1),
  created: z.number().int(),
  api_version: z.string().nullable(),
  livemode: z.boolean(),
  account: z.string().regex(/^acct_[A-Za-z0-9]+$/).optional(),
  data: z.looseObject({ object: z.looseObject({ id: z.string() }) }),
});

export type Verified = { readonly ok: true; readonly event: StripeEvent & { readonly livemode: boolean }; readonly endpoint: EndpointSecret };
export type Refused = { readonly ok: false; readonly status: number; readonly reason: string };

const verifier = Stripe.webhooks;

export function verifyDelivery(body: Buffer, signature: string | undefined, secrets: readonly EndpointSecret[], nowMs?: number): Verified | Refused {
  if (signature === undefined || signature === '') return { ok: false, status: 400, reason: 'no Stripe-Signature header' };
  let signedBy: EndpointSecret | undefined;
  let problem = 'no endpoint secret';
  for (const endpoint of secrets) {
    try {
      verifier.signature?.verifyHeader(body, signature, endpoint.secret, SIGNATURE_TOLERANCE_SECONDS, undefined, nowMs);
      signedBy = endpoint;
      break;
    } catch (error) {
      // The SDK's messages say what is wrong and name no secret. A signature that matches one
      // secret but is too old says more than the other secret's mismatch.
      const message = error instanceof Error ? (error.message.split('\n')[0] ?? 'signature refused') : 'signature refused';
      if (problem === 'no endpoint secret' || /^No signatures found matching/.test(problem)) problem = message;
    }
  }
  if (!signedBy) return { ok: false, status: 400, reason: `signature refused: ${problem}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, status: 400, reason: 'the body is not JSON' };
  }
  const event = EventSchema.safeParse(parsed);
  if (!event.success) return { ok: false, status: 400, reason: `the body is not a Stripe event (${event.error.issues.map((i) => i.path.join('.') || 'body').join(', ')})` };
  return { ok: true, event: event.data as unknown as Verified['event'], endpoint: signedBy };
}
