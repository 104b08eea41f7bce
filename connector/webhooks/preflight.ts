// What `webhooks register` and `remove` check before their first request to Stripe: the URL
// Stripe is to post to, and that the secret file can be read and replaced. An endpoint created
// whose secret could then not be written would be one whose secret nobody has.
import { existsSync, openSync, closeSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import { readWebhookSecrets, type EndpointSecret } from './secret-file.js';

/** Hosts that may be given plain http: this machine (the simulator, tests), which Stripe itself never reaches. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The URL Stripe is to post events to: https, or http on this machine; no credentials in it. */
export function checkWebhookUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`--url ${text} is not a URL: give the https address where stripe-elt serve receives events, such as https://example.com/webhooks.`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UserError(
      `--url ${text} is not an https URL: Stripe posts events only to https addresses (behind TLS, such as https://example.com/webhooks); plain http is accepted for 127.0.0.1 and localhost only, for tests.`,
    );
  }
  if (url.username || url.password) {
    // Stripe would keep them with the URL, and `webhooks list` would show them.
    throw new UserError(`--url must not hold a user name or password: Stripe's signature already proves who sends the events. Give it as ${url.protocol}//${url.host}${url.pathname}${url.search}.`);
  }
  return url.href;
}

/** The words for a failed file operation, from its error code. */
function reason(error: NodeJS.ErrnoException): string {
  if (error.code === 'EACCES' || error.code === 'EPERM') return 'permission denied';
  if (error.code === 'EROFS') return 'the file system is read-only';
  return error.message;
}

/**
 * The secrets the file holds (none if it does not exist yet), having made sure that it can be
 * replaced: its folder exists, a file can be created there, and the file is a secret file readable
 * by its owner only (readWebhookSecrets refuses any other). Nothing is left behind.
 */
export function checkSecretFile(path: string): EndpointSecret[] {
  const folder = dirname(path);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UserError(`The folder of --secret-file ${path}, ${folder}, does not exist: create it (mkdir -p ${folder}), or name a file in a folder that exists.`);
  }
  if (existsSync(path) && !statSync(path).isFile()) {
    throw new UserError(`--secret-file ${path} is a folder, not a file: name a file in it, such as ${path.replace(/\/$/, '')}/webhook-secrets.json.`);
  }
  const held = readWebhookSecrets(path);
  // writeWebhookSecrets writes a file beside it, then renames it over: try exactly that folder.
  const probe = `${path}.${process.pid}.probe`;
  try {
    closeSync(openSync(probe, 'wx', 0o600));
  } catch (error) {
    throw new UserError(`--secret-file ${path} cannot be written: creating a file in ${folder} failed (${reason(error as NodeJS.ErrnoException)}). Name a file in a folder you may write to.`);
  } finally {
    rmSync(probe, { force: true });
  }
  return held;
}
