// `npm run simulator -- --port P …`: a Stripe API simulator on 127.0.0.1.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SimulatorServer } from './server.js';
import { SHAPE_NAMES } from './shapes.js';
import type { Mode } from './store.js';
import { DEFAULT_WEBHOOK_SETTINGS as WEBHOOKS, checkWebhookSettings, type WebhookSettings } from './webhook-delivery.js';
import { checkPayoutDelays } from './world.js';

/** `2,14,31` as days; yargs reports a bad list with the usage. */
function parseDelays(text: string): number[] {
  const delays = text.split(',').map((part) => {
    if (!/^\s*\d+\s*$/.test(part)) throw new Error(`--payout-delays: "${part}" is not a whole number of days (write e.g. 2,14,31)`);
    return Number(part);
  });
  checkPayoutDelays(delays);
  return delays;
}

const argv = yargs(hideBin(process.argv))
  .scriptName('npm run simulator --')
  .usage('$0 [options]\n\nA Stripe API simulator for tests, demos and benchmarks. Prints "listening on URL" when ready; stops on SIGTERM.')
  .options({
    port: { type: 'number', default: 12111, describe: 'TCP port on 127.0.0.1 (0: any free port)' },
    seed: { type: 'string', default: '1', describe: 'the data is a function of the seed and the options below' },
    now: { type: 'string', describe: 'simulated "now" (ISO date or unix seconds); default: today, 00:00 UTC' },
    days: { type: 'number', default: 400, describe: 'days of history' },
    objects: { type: 'number', default: 20_000, describe: 'about how many objects (events aside) each mode with data holds' },
    accounts: { type: 'number', default: 3, describe: 'connected accounts of the platform' },
    'payout-delays': { type: 'string', coerce: parseDelays, describe: 'payout delays in days (2 to 31) for the connected accounts, round-robin in the order they join, e.g. 2,14,31 (default: 2 to 7 by country)' },
    shape: { choices: SHAPE_NAMES, describe: 'another shape of data than the default business (test/simulator/shapes.ts)' },
    mode: { choices: ['test', 'live', 'both'] as const, default: 'test' as const, describe: 'which mode holds data (the other is empty)' },
    key: { type: 'string', array: true, default: [] as string[], describe: 'extra API key: rk_test_NAME=RULES, RULES like "*:read,charges:none,connect.*:read"' },
    'rate-live': { type: 'number', default: 100, describe: 'global requests/s for a live key (0: unlimited)' },
    'rate-test': { type: 'number', default: 25, describe: 'global requests/s for a test key (0: unlimited)' },
    'rate-endpoint': { type: 'number', default: 25, describe: 'requests/s to any one endpoint (0: unlimited)' },
    'rate-per-account': { type: 'boolean', default: false, describe: 'give each connected account its own budgets (default: one per key)' },
    'latency-ms': { type: 'number', default: 0, describe: 'latency added to every API response' },
    'jitter-ms': { type: 'number', default: 0, describe: 'up to this much more latency, uniformly' },
    'error-rate': { type: 'number', default: 0, describe: 'share of requests answered with a 500' },
    'lock-timeout-rate': { type: 'number', default: 0, describe: 'share of requests answered with a 429 lock_timeout' },
    'drop-rate': { type: 'number', default: 0, describe: 'share of requests whose connection is dropped' },
    'webhook-retry-base-ms': { type: 'number', default: WEBHOOKS.webhookRetryBaseMs, describe: 'a failed webhook delivery is retried after this (times 1 to 1.5), each retry waiting twice as long' },
    'webhook-max-attempts': { type: 'number', default: WEBHOOKS.webhookMaxAttempts, describe: 'attempts of a webhook delivery before it is given up' },
    'webhook-duplicate-rate': { type: 'number', default: WEBHOOKS.webhookDuplicateRate, describe: 'share of delivered webhook events sent a second time' },
    'webhook-concurrency': { type: 'number', default: WEBHOOKS.webhookConcurrency, describe: 'webhook deliveries in flight at once' },
    'webhook-shuffle': { type: 'boolean', default: WEBHOOKS.webhookShuffle, describe: 'send each batch of queued webhook deliveries in a seeded random order' },
    'webhook-timeout-ms': { type: 'number', default: WEBHOOKS.webhookTimeoutMs, describe: 'a webhook receiver that has not answered by then failed the attempt' },
  })
  .check((args) => {
    checkWebhookSettings(webhookOptions(args));
    return true;
  })
  .strict()
  .help()
  .parseSync();

/** The webhook options as SimulatorOptions names them. */
function webhookOptions(args: Record<string, unknown>): WebhookSettings {
  return {
    webhookRetryBaseMs: args['webhook-retry-base-ms'] as number,
    webhookMaxAttempts: args['webhook-max-attempts'] as number,
    webhookDuplicateRate: args['webhook-duplicate-rate'] as number,
    webhookConcurrency: args['webhook-concurrency'] as number,
    webhookShuffle: args['webhook-shuffle'] as boolean,
    webhookTimeoutMs: args['webhook-timeout-ms'] as number,
  };
}

function parseNow(text: string | undefined): number {
  if (text === undefined) return Math.floor(Date.now() / 86_400_000) * 86_400;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`--now: "${text}" is neither an ISO date nor unix seconds`);
  return Math.floor(ms / 1000);
}

const startedAt = performance.now();
const server = new SimulatorServer({
  seed: argv.seed,
  now: parseNow(argv.now),
  days: argv.days,
  objects: argv.objects,
  accounts: argv.accounts,
  modes: argv.mode === 'both' ? ['test', 'live'] : [argv.mode as Mode],
  ...(argv['payout-delays'] ? { payoutDelayDays: argv['payout-delays'] } : {}),
  ...(argv.shape ? { shape: argv.shape } : {}),
  keys: argv.key,
  rateLimits: { live: argv['rate-live'], test: argv['rate-test'], endpoint: argv['rate-endpoint'], perAccount: argv['rate-per-account'] },
  faults: {
    latencyMs: argv['latency-ms'],
    jitterMs: argv['jitter-ms'],
    errorRate: argv['error-rate'],
    lockTimeoutRate: argv['lock-timeout-rate'],
    dropRate: argv['drop-rate'],
  },
  ...webhookOptions(argv),
});
const generated = performance.now();
const url = await server.listen(argv.port);
const objects = Object.values(server.world.modes).reduce((sum, m) => sum + [...m.allAccounts()].reduce((s, a) => s + a.objectCount(), 0), 0);
process.stderr.write(
  `simulator: ${objects} objects in ${Math.round(generated - startedAt)} ms, ` +
    `${Math.round(process.memoryUsage().rss / 1e6)} MB resident\n`,
);
process.stdout.write(`listening on ${url}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  });
}
