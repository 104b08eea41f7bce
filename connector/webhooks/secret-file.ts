// The file that holds the signing secrets of the webhook endpoints `webhooks register` made:
// `serve` reads it to verify what Stripe sends. It is the only place a secret is written: JSON,
// readable by its owner only (0600), replaced whole so that a crash never leaves half of it.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';

const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9]+$/;

const EndpointSecretSchema = z.strictObject({
  /** `we_…` */
  id: z.string().regex(/^we_[A-Za-z0-9]+$/),
  url: z.string(),
  /** true: the endpoint receives connected accounts' events (Stripe's `connect=true`). */
  connect: z.boolean(),
  secret: z.string().regex(WEBHOOK_SECRET),
});

const SecretFileSchema = z.strictObject({ endpoints: z.array(EndpointSecretSchema) });

export type EndpointSecret = z.infer<typeof EndpointSecretSchema>;

export function isWebhookSecret(text: string): boolean {
  return WEBHOOK_SECRET.test(text);
}

/**
 * The secrets in the file; an absent file holds none. A file that others may read is refused
 * (its secrets let anyone forge events): the message says how to fix it, and never shows a secret.
 */
export function readWebhookSecrets(path: string): EndpointSecret[] {
  if (!existsSync(path)) return [];
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UserError(`${path} holds webhook signing secrets but others may read it (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path}.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UserError(`${path} is not a webhook secret file (it is not JSON); it is written by stripe-elt webhooks register.`);
  }
  const parsed = SecretFileSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join('.') || 'the file').join(', ');
    throw new UserError(`${path} is not a webhook secret file (wrong or missing: ${where}); it is written by stripe-elt webhooks register.`);
  }
  return parsed.data.endpoints;
}

/** Replaces the file with these secrets: written to a file of mode 0600 beside it, synced, then renamed over it. */
export function writeWebhookSecrets(path: string, endpoints: readonly EndpointSecret[]): void {
  const temporary = `${path}.${process.pid}.tmp`;
  rmSync(temporary, { force: true }); // a leftover would keep its own mode
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ endpoints }, null, 2)}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}
