// Whether Stripe's changes reach the warehouse by webhook, by the scheduled sync's events pass,
// or both, the raw tables end equal to Stripe's truth, and the marts built after the commits
// equal a full rebuild. The simulator delivers as Stripe does: signed, at the endpoint's API
// version, retried with backoff while the receiver is down, some events twice, not in order.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReader } from '../../connector/loaders/warehouse.js';
import { STREAMS, STREAM_NAMES } from '../../connector/streams/catalog.js';
import { readWebhookSecrets } from '../../connector/webhooks/secret-file.js';
import { finishCli, startCli } from '../cli-process.js';
import { compareWithTruth, configFor } from '../connector/helpers.js';
import { warehouseView } from '../loaders/warehouses.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { health, startServe, until, type RunningServe } from './helpers.js';

/** The streams whose every change comes with an event: webhooks alone keep them exact. */
const EVENT_STREAMS = STREAM_NAMES.filter((stream) => STREAMS[stream].changes === 'events' && stream !== 'events');

let sim: RunningSimulator;
let running: RunningServe;
let port: number;
let secretFile: string;
let dir: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const found = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return found;
}

/** The differences between the raw tables and the truth, for these streams. */
async function differences(streams: readonly string[]) {
  const comparison = await compareWithTruth(sim, await warehouseView(running.warehouse));
  const ours = (key: string) => streams.includes(key.split('/')[0] as string);
  return { matched: comparison.matched, missing: comparison.missing.filter(ours), different: comparison.different.filter(ours), unexpected: comparison.unexpected.filter(ours) };
}

/** Waits until the simulator has delivered everything and serve has committed it. */
async function settled(): Promise<void> {
  await sim.server.webhooksIdle();
  await until(async () => {
    const now = await health(running.url);
    return now.events.pending === 0 && now.warehouse.error === null;
  });
  await running.serve.commitJournal();
}

async function start(): Promise<void> {
  running = await startServe(sim, { port, secrets: readWebhookSecrets(secretFile), dir, ...(running ? { warehouse: running.warehouse } : {}) });
}

beforeAll(async () => {
  sim = await startSimulator({
    seed: 'paths-agree',
    objects: 2500,
    accounts: 2,
    rateLimits: { test: 0, endpoint: 0 },
    webhookRetryBaseMs: 100,
    webhookDuplicateRate: 0.2,
    webhookShuffle: true,
  });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-paths-'));
  port = await freePort();
  // Registered as a user would, with a key that may write webhook endpoints.
  const admin = join(dir, 'admin.json');
  writeFileSync(admin, JSON.stringify(configFor(sim, { api_key: 'sk_test_simulator' })));
  secretFile = join(dir, 'secrets.json');
  const registered = await finishCli(startCli(['webhooks', 'register', '--config', admin, '--url', `http://127.0.0.1:${port}/webhooks`, '--secret-file', secretFile]));
  expect(registered.code, registered.stderr).toBe(0);
  expect(readWebhookSecrets(secretFile).map((e) => e.connect)).toEqual([false, true]);
  await start();
  await running.serve.sync();
}, 180_000);

afterAll(async () => {
  await running?.serve.stop();
  await running?.warehouse.close();
  await sim?.close();
});

describe('changes reaching the warehouse', () => {
  it('by webhook alone (some twice, out of order): the streams whose changes all have events equal the truth', async () => {
    await control(sim, 'advance', { days: 10 });
    await settled();
    const after = await health(running.url);
    expect(after.events.applied).toBeGreaterThan(150);
    expect(after.events.duplicates).toBeGreaterThan(0);
    const result = await differences(EVENT_STREAMS);
    expect(result.missing).toEqual([]);
    expect(result.different).toEqual([]);
    expect(result.unexpected).toEqual([]);
    expect(result.matched).toBeGreaterThan(1000);
    await running.serve.transformNow();
  }, 300_000);

  it('by webhook while the receiver was down for a while: Stripe retries, and nothing is missing once it is back', async () => {
    await running.serve.stop();
    await control(sim, 'advance', { days: 2 });
    // Deliveries fail (connection refused) and wait for their retries.
    await until(async () => (await control<{ endpoints: { failed_attempts: number }[] }>(sim, 'webhooks')).endpoints.some((e) => e.failed_attempts > 0));
    await start();
    await settled();
    const result = await differences(EVENT_STREAMS);
    expect(result.missing).toEqual([]);
    expect(result.different).toEqual([]);
    expect(result.unexpected).toEqual([]);
  }, 300_000);

  it('by webhook and by a sync at the same time: every stream equals the truth', async () => {
    await control(sim, 'advance', { days: 2 });
    await Promise.all([running.serve.sync(), settled()]);
    await settled();
    const result = await differences(STREAM_NAMES);
    expect(result.missing).toEqual([]);
    expect(result.different).toEqual([]);
    expect(result.unexpected).toEqual([]);
  }, 300_000);

  it('the marts built after those commits equal a full rebuild', async () => {
    await running.serve.transformNow();
    const served = join(dir, 'warehouse.readonly.duckdb');
    const full = join(dir, 'full.duckdb');
    copyFileSync(served, full);
    const rebuilt = await finishCli(startCli(['transform', '--warehouse', `duckdb:${full}`, '--full-refresh']));
    expect(rebuilt.code, rebuilt.stdout).toBe(0);
    const incremental = await openReader(`duckdb:${served}`);
    const whole = await openReader(`duckdb:${full}`);
    try {
      const { rows } = await whole.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'stripe_marts' ORDER BY 1");
      expect(rows.length).toBeGreaterThan(10);
      for (const { table_name: table } of rows) {
        const sql = `SELECT * FROM stripe_marts."${String(table)}" ORDER BY ALL`;
        const text = async (client: typeof whole) => JSON.stringify((await client.query(sql)).rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
        expect(await text(incremental), String(table)).toBe(await text(whole));
      }
    } finally {
      await incremental.close();
      await whole.close();
    }
  }, 300_000);
});
