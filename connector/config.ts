// The source's configuration: parsed at the edge with zod, then trusted. spec.json describes the
// same keys for Airbyte (a test keeps the two in agreement).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from './errors.js';

const API_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9]+$/;
const ACCOUNT_ID = /^acct_[A-Za-z0-9]+$/;
const START_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * What is wrong with a start_date of the right shape: a day or a time that is not on the
 * calendar (which Date.parse would roll over into the next month), or a moment later than `now`.
 */
function startDateProblem(text: string, now: number): string | undefined {
  const parts = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?[^+-]*(?:[+-](\d{2}):(\d{2}))?)?$/.exec(text);
  if (!parts) return undefined; // the pattern's own message says what the shape must be
  const [year, month, day, hour, minute, second, zoneHours, zoneMinutes] = parts.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number, number, number];
  if (month < 1 || month > 12) return `${text} has no month ${parts[2]} (months are 01 to 12); give a date as YYYY-MM-DD, such as ${parts[1]}-12-01`;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) {
    return `${text} is not a day on the calendar (${MONTHS[month - 1]} ${year} has ${days} days); give a date as YYYY-MM-DD, such as ${parts[1]}-${parts[2]}-${days}`;
  }
  if (hour > 23 || minute > 59 || second > 59 || zoneHours > 23 || zoneMinutes > 59) {
    return `${text} is not a time of day (hours are 00 to 23, minutes and seconds 00 to 59); give a date-time such as ${parts[1]}-${parts[2]}-${parts[3]}T00:00:00Z`;
  }
  if (Date.parse(normaliseDate(text)) > now) {
    const yearAgo = new Date(now - 365 * 86_400_000).toISOString().slice(0, 10);
    return `${text} is in the future (it is now ${new Date(now).toISOString().slice(0, 19)}Z); give a past date such as ${yearAgo}, or leave start_date out to read the 12 months before the first sync`;
  }
  return undefined;
}

const accountId = z.string().regex(ACCOUNT_ID, 'must be acct_ followed by letters and digits, like acct_1PgafTB7WZ01zgkW');

export const ConfigSchema = z
  .object({
    api_key: z
      .string()
      .regex(API_KEY, 'must be a Stripe API key: rk_live_… or rk_test_… (restricted, recommended), or sk_live_… / sk_test_…')
      .optional(),
    account_id: accountId.optional(),
    start_date: z
      .string()
      .regex(START_DATE, 'must be a date as YYYY-MM-DD or an ISO date-time such as 2024-01-01T00:00:00Z')
      .superRefine((text, context) => {
        const problem = startDateProblem(text, Date.now());
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    connected_accounts: z.union([z.enum(['all', 'none']), z.array(accountId).min(1)]).optional(),
    lookback_window_days: z.number().int().min(0).max(365).optional(),
    max_requests_per_second: z.number().gt(0).max(1000).optional(),
    api_base: z.string().regex(/^https?:\/\//, 'must be an http(s) URL such as https://api.stripe.com').optional(),
  })
  .strict();

export type RawConfig = z.infer<typeof ConfigSchema>;

export type Mode = 'test' | 'live';

/** The configuration with defaults applied and the key resolved. */
export interface SourceConfig {
  readonly apiKey: string;
  readonly keyKind: 'restricted' | 'secret';
  readonly mode: Mode;
  readonly accountId: string | undefined;
  /** Unix seconds, or undefined for "12 months before the first sync". */
  readonly startDate: number | undefined;
  readonly connectedAccounts: 'all' | 'none' | readonly string[];
  readonly lookbackWindowDays: number;
  readonly maxRequestsPerSecond: number;
  readonly apiBase: URL;
}

export const DEFAULT_LOOKBACK_DAYS = 10;
/**
 * Half of Stripe's documented 100 (live) and 25 (test) requests per second: the limits are the
 * account's, shared with every other key, the business's own checkout included, so a backfill
 * leaves it the other half (and less after any 429, see rate-budget.ts). `max_requests_per_second`
 * raises it, for a night-time backfill: up to 97 (live) keeps clear of the limit.
 */
export const DEFAULT_RATE: Record<Mode, number> = { live: 50, test: 12.5 };

function describeIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (known keys: ${Object.keys(ConfigSchema.shape).join(', ')})`;
    return `${path || 'the config'}: ${issue.message}`;
  });
  return `${source} is not a valid configuration: ${lines.join('; ')}.`;
}

/** Validates a parsed JSON config and applies defaults; `env` supplies STRIPE_API_KEY. */
export function resolveConfig(raw: unknown, source = 'the config', env: NodeJS.ProcessEnv = process.env): SourceConfig {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error, source));
  const config = parsed.data;
  const apiKey = config.api_key ?? env.STRIPE_API_KEY;
  if (!apiKey) throw new UserError(`No API key: set api_key in ${source}, or the STRIPE_API_KEY environment variable.`);
  const match = API_KEY.exec(apiKey);
  if (!match) {
    throw new UserError('STRIPE_API_KEY is not a Stripe API key: use rk_live_… or rk_test_… (a restricted key, recommended), or sk_live_… / sk_test_….');
  }
  const mode = match[2] as Mode;
  return {
    apiKey,
    keyKind: match[1] === 'rk' ? 'restricted' : 'secret',
    mode,
    accountId: config.account_id,
    startDate: config.start_date === undefined ? undefined : Math.floor(Date.parse(normaliseDate(config.start_date)) / 1000),
    connectedAccounts: config.connected_accounts ?? 'all',
    lookbackWindowDays: config.lookback_window_days ?? DEFAULT_LOOKBACK_DAYS,
    maxRequestsPerSecond: config.max_requests_per_second ?? DEFAULT_RATE[mode],
    apiBase: new URL(config.api_base ?? 'https://api.stripe.com'),
  };
}

/** A bare date means midnight UTC; a date-time without a zone means UTC too. */
function normaliseDate(text: string): string {
  if (text.length === 10) return `${text}T00:00:00Z`;
  return /Z|[+-]\d{2}:\d{2}$/.test(text) ? text : `${text}Z`;
}

/** Reads a JSON file given on the command line, with errors that name the file and the fix. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UserError(`Cannot read the ${what} file ${path}: ${reason}.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UserError(`The ${what} file ${path} is not valid JSON: ${(error as Error).message}.`);
  }
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): SourceConfig {
  return resolveConfig(readJsonFile(path, 'config'), path, env);
}
