// The webhook receiver's benchmark: a local client (loopback only, bounded in count and time)
// sends signed `customer.updated` deliveries to `stripe-elt serve` (the built CLI, its own
// process, DuckDB warehouse loaded from the simulator first), as fast as `--concurrency` requests
// in flight allow. Prints the events per second accepted (answered 200: on disk), the latency
// from receipt to durable that serve measured (p50, p99), the time until every event was in the
// warehouse, and checks that none was lost: every event id is in stripe_elt.webhook_events and
// every customer holds its last name. Beside it, the same client against a bare HTTP server that
// answers 200 at once (no verification, no journal) gives the baseline: the ratio says what
// verifying and journaling cost.
//
//   npm run build && node --import tsx bench/webhooks.ts [--events 20000] [--concurrency 64]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import Stripe from 'stripe';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { load } from '../connector/commands/load.js';
import { resolveConfig } from '../connector/config.js';
import { silentLogger } from '../connector/logger.js';
import { DuckDBClient } from '../connector/loaders/duckdb/duckdb-client.js';
import { DuckDBLoader } from '../connector/loaders/duckdb/duckdb-loader.js';
import { STREAM_NAMES } from '../connector/streams/catalog.js';
import { STRIPE_API_VERSION } from '../connector/stripe/client.js';
import { writeWebhookSecrets } from '../connector/webhooks/secret-file.js';
import { startSimulator } from '../test/simulator/index.js';
import { freePort } from '../test/serve/helpers.js';
import { cpuSeconds } from './measure.js';

const argv = yargs(hideBin(process.argv))
  .options({
    events: { type: 'number', default: 20_000, describe: 'deliveries to send (each a distinct event)' },
    concurrency: { type: 'number', default: 64, describe: 'requests in flight at once' },
    'time-limit': { type: 'number', default: 300, describe: 'seconds at most for the sending' },
  })
  .strict()
  .parseSync();

/** Made for this run: no signing secret is written in the sources. */
const SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const agent = new Agent({ keepAlive: true, maxSockets: argv.concurrency });

function post(port: number, body: string, header: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/webhooks', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'stripe-signature': header } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends every body with `concurrency` in flight; the seconds it took, and the statuses. */
async function send(port: number, bodies: readonly string[]): Promise<{ seconds: number; statuses: Map<number, number> }> {
  const statuses = new Map<number, number>();
  const started = performance.now();
  const giveUp = started + argv['time-limit'] * 1000;
  let next = 0;
  const worker = async () => {
    while (next < bodies.length && performance.now() < giveUp) {
      const body = bodies[next++] as string;
      const status = await post(port, body, Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const progress = setInterval(() => console.error(`  ${[...statuses.values()].reduce((a, b) => a + b, 0)} answered`), 5000);
  await Promise.all(Array.from({ length: argv.concurrency }, worker)).finally(() => clearInterval(progress));
  return { seconds: (performance.now() - started) / 1000, statuses };
}

async function health(url: string): Promise<Record<string, any>> {
  return (await (await fetch(`${url}/healthz`)).json()) as Record<string, any>;
}

const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-bench-webhooks-'));
const sim = await startSimulator({ seed: 'bench-webhooks', objects: 3000, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
const warehousePath = join(dir, 'stripe.duckdb');
let serve: ChildProcess | undefined;
try {
  const configPath = join(dir, 'config.json');
  const config = { api_key: 'rk_test_simulator', api_base: sim.url, start_date: '2024-01-01', max_requests_per_second: 1000 };
  writeFileSync(configPath, JSON.stringify(config));
  const secretFile = join(dir, 'secrets.json');
  writeWebhookSecrets(secretFile, [{ id: 'we_bench', url: 'https://example.com/webhooks', connect: false, secret: SECRET }]);
  console.error('loading the warehouse from the simulator…');
  const loader = new DuckDBLoader(warehousePath);
  await loader.open();
  await load({ config: resolveConfig(config, 'config', {}), streams: STREAM_NAMES.map((name) => ({ name, syncMode: 'incremental' as const })), loader, logger: silentLogger() });
  const { rows } = await loader.client.query("SELECT data FROM stripe_raw.customers WHERE account_id = (SELECT value FROM stripe_elt.settings WHERE key = 'platform')");
  const customers = rows.map((r) => JSON.parse(String(r.data)) as Record<string, unknown>);
  await loader.close();
  const base = Math.floor(Date.now() / 1000);
  // Event i renames customer i mod n; the last event about each customer names it last.
  const bodies = Array.from({ length: argv.events }, (_, i) => {
    const customer = customers[i % customers.length] as Record<string, unknown>;
    const { account_id: _a, observed_at: _o, ...object } = customer;
    return JSON.stringify({ id: `evt_bench${i}`, object: 'event', api_version: STRIPE_API_VERSION, created: base + Math.floor(i / customers.length), data: { object: { ...object, name: `Name ${i}` } }, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type: 'customer.updated' });
  });

  console.error('sending to the baseline…');
  // The baseline: a server that answers at once.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const baseline = await send((bare.address() as AddressInfo).port, bodies);
  bare.close();

  // A free port, for serve to listen on: at warn it does not log its address (nor each event: the
  // benchmark measures receiving, not the terminal).
  const port = await freePort();
  serve = spawn(process.execPath, ['dist/connector/cli.js', 'serve', '--config', configPath, '--warehouse', `duckdb:${warehousePath}`, '--secret-file', secretFile, '--port', String(port), '--sync-every', '0', '--transform-every', '0'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (serve.exitCode !== null) throw new Error(`serve exited with ${serve.exitCode}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const cpuBefore = cpuSeconds(serve.pid);
  const sent = await send(port, bodies);
  const sentAt = performance.now();
  let last = await health(url);
  while (last.events.applied + last.events.duplicates < argv.events || last.events.pending > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await health(url);
  }
  const inWarehouse = (performance.now() - sentAt) / 1000;
  const cpu = cpuSeconds(serve.pid) - cpuBefore;
  const exit = once(serve, 'exit');
  serve.kill('SIGTERM');
  await exit;
  serve = undefined;

  const client = await DuckDBClient.open(warehousePath, { readOnly: true });
  const stored = await client.query("SELECT count(*) AS n FROM stripe_elt.webhook_events WHERE id LIKE 'evt_bench%'");
  const names = await client.query("SELECT id, data->>'name' AS name FROM stripe_raw.customers WHERE account_id = (SELECT value FROM stripe_elt.settings WHERE key = 'platform')");
  await client.close();
  const expectedName = new Map(customers.map((c, k) => [c.id as string, `Name ${k + customers.length * Math.floor((argv.events - 1 - k) / customers.length)}`]));
  const wrongNames = names.rows.filter((r) => expectedName.get(String(r.id)) !== String(r.name)).length;

  const accepted = sent.statuses.get(200) ?? 0;
  const rate = accepted / sent.seconds;
  const baselineRate = (baseline.statuses.get(200) ?? 0) / baseline.seconds;
  const latency = last.receipt_to_durable_ms as { p50: number; p99: number; max: number; of: number };
  console.log(`events sent: ${argv.events}, ${argv.concurrency} in flight, over loopback`);
  console.log(`serve:    ${accepted} accepted (200) in ${sent.seconds.toFixed(2)} s = ${Math.round(rate)} events/s; statuses ${JSON.stringify(Object.fromEntries(sent.statuses))}; serve CPU ${cpu.toFixed(1)} s`);
  console.log(`baseline: a bare HTTP server answering at once: ${Math.round(baselineRate)} requests/s`);
  console.log(`ratio serve ÷ baseline: ${(rate / baselineRate).toFixed(3)}`);
  console.log(`receipt to durable (journal synced), last ${latency.of}: p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`);
  console.log(`every event in the warehouse ${inWarehouse.toFixed(2)} s after the last was answered; commits ${last.last_commit ? 'done' : 'none'}`);
  console.log(`lost: ${argv.events - Number(stored.rows[0]?.n)} event ids missing from stripe_elt.webhook_events; ${wrongNames} of ${names.rows.length} customers without their last name`);
  if (Number(stored.rows[0]?.n) !== argv.events || wrongNames > 0) process.exitCode = 1;
} finally {
  serve?.kill('SIGKILL');
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
