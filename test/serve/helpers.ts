// Running `serve` in this process against the simulator and a DuckDB warehouse, and delivering
// signed events to it over real HTTP, as Stripe would.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger, type Logger } from '../../connector/logger.js';
import { DuckDBLoader } from '../../connector/loaders/duckdb/duckdb-loader.js';
import { ServeProcess, type ServeOptions } from '../../connector/serve/serve.js';
import { STRIPE_API_VERSION } from '../../connector/stripe/client.js';
import { readWebhookSecrets, type EndpointSecret } from '../../connector/webhooks/secret-file.js';
import type { Warehouse } from '../../connector/loaders/warehouse.js';
import { STREAMS, STREAM_NAMES, type StreamName } from '../../connector/streams/catalog.js';
import { finishCli, startCli } from '../cli-process.js';
import { warehouseView } from '../loaders/warehouses.js';
import { allStreams, compareWithTruth, configFor } from '../connector/helpers.js';
import type { RunningSimulator } from '../simulator/index.js';

/** A signing secret made for this run: none is written in the sources. */
export function testWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('hex')}`;
}

export const PLATFORM_ENDPOINT: EndpointSecret = { id: 'we_platform1', url: 'https://example.com/webhooks', connect: false, secret: testWebhookSecret() };
export const CONNECT_ENDPOINT: EndpointSecret = { id: 'we_connect1', url: 'https://example.com/webhooks', connect: true, secret: testWebhookSecret() };

export interface RunningServe {
  readonly serve: ServeProcess;
  readonly url: string;
  readonly warehouse: DuckDBLoader;
  readonly journal: string;
  readonly dir: string;
}

export async function startServe(sim: RunningSimulator, options: Partial<ServeOptions> & { logger?: Logger; dir?: string } = {}): Promise<RunningServe> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'stripe-elt-serve-'));
  const warehouse = (options.warehouse as DuckDBLoader | undefined) ?? new DuckDBLoader(join(dir, 'warehouse.duckdb'));
  if (!options.warehouse) await warehouse.open();
  const journal = options.journalDir ?? join(dir, 'warehouse.duckdb.journal');
  const serve = new ServeProcess({
    config: resolveConfig(configFor(sim), 'config', {}),
    streams: allStreams(),
    warehouse,
    secrets: [PLATFORM_ENDPOINT, CONNECT_ENDPOINT],
    journalDir: journal,
    host: '127.0.0.1',
    port: 0,
    syncEverySeconds: 0,
    transformEverySeconds: null,
    logger: options.logger ?? silentLogger(),
    commitEveryMs: 100,
    readCopy: join(dir, 'warehouse.readonly.duckdb'),
    ...options,
  });
  const url = await serve.start();
  return { serve, url, warehouse, journal, dir };
}

/** An event about `object`, as a webhook endpoint at our API version delivers it. */
export function eventOf(id: string, type: string, created: number, object: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, object: 'event', api_version: STRIPE_API_VERSION, created, data: { object }, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, ...extra });
}

export function signature(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
}

export async function deliver(url: string, body: string | Buffer, header: string | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header !== undefined ? { 'stripe-signature': header } : {}) },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function health(url: string): Promise<Record<string, any>> {
  return (await (await fetch(`${url}/healthz`)).json()) as Record<string, any>;
}

/** Waits until `check` holds, polling. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const giveUp = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUp) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The streams whose every change comes with an event: webhooks alone keep them exact. */
export const EVENT_STREAMS: readonly StreamName[] = STREAM_NAMES.filter((stream) => STREAMS[stream].changes === 'events' && stream !== 'events');

/** A port nothing listens on now, for a serve whose URL must be known before it starts (to register it). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const found = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return found;
}

/** Registers the endpoints for serve on `port` as a user would (`webhooks register`, a key that may write them); their secrets. */
export async function registerEndpoints(sim: RunningSimulator, dir: string, port: number): Promise<EndpointSecret[]> {
  const admin = join(dir, 'admin.json');
  writeFileSync(admin, JSON.stringify(configFor(sim, { api_key: 'sk_test_simulator' })));
  const secretFile = join(dir, 'secrets.json');
  const registered = await finishCli(startCli(['webhooks', 'register', '--config', admin, '--url', `http://127.0.0.1:${port}/webhooks`, '--secret-file', secretFile]));
  if (registered.code !== 0) throw new Error(`webhooks register failed: ${registered.stderr}`);
  return readWebhookSecrets(secretFile);
}

/** The differences between a warehouse's raw tables and the simulator's truth, for these streams. */
export async function differences(sim: RunningSimulator, warehouse: Warehouse, streams: readonly StreamName[]) {
  const comparison = await compareWithTruth(sim, await warehouseView(warehouse));
  const ours = (key: string) => streams.includes(key.split('/')[0] as StreamName);
  return { matched: comparison.matched, missing: comparison.missing.filter(ours), different: comparison.different.filter(ours), unexpected: comparison.unexpected.filter(ours) };
}

/** Waits until the simulator has delivered everything and serve has committed it. */
export async function settled(sim: RunningSimulator, running: RunningServe): Promise<void> {
  await sim.server.webhooksIdle();
  await until(async () => {
    const now = await health(running.url);
    return now.events.pending === 0 && now.warehouse.error === null;
  });
  await running.serve.commitJournal();
}
