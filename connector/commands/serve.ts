// `serve` from the command line: its options checked before any work (the configuration, the
// secret file, durations, the warehouse), then the process runs until SIGTERM or SIGINT, when it
// stops taking requests, commits what it accepted, and exits 0.
import { UserError } from '../errors.js';
import { readWebhookSecrets } from '../webhooks/secret-file.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `5m`, `24h`, `1d` as seconds; `0` (or `off`/`never`) as null. */
export function parseDuration(text: string, option: string): number | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === '0' || trimmed === 'off' || trimmed === 'never') return null;
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(trimmed);
  if (!match) throw new UserError(`${option} ${text}: give a duration such as 90s, 5m, 24h or 1d (or 0 for never).`, 'config_error');
  const seconds = Number(match[1]) * (UNITS[match[2] as string] as number);
  if (seconds < 1) throw new UserError(`${option} ${text}: give at least one second.`, 'config_error');
  return seconds;
}

/** The secrets `serve` verifies deliveries with: the file must hold at least one. */
export function serveSecrets(path: string) {
  const secrets = readWebhookSecrets(path);
  if (secrets.length === 0) {
    throw new UserError(
      `${path} holds no webhook signing secret: register the endpoints first (stripe-elt webhooks register --config F --url https://…/webhooks --secret-file ${path}), then start serve with the same --secret-file.`,
      'config_error',
    );
  }
  return secrets;
}
