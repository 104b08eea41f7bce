// `serve` on BigQuery (through the real client against the local endpoint): a sync at start, then
// deliveries by the simulator, redelivered and shuffled, end with the event streams equal to
// Stripe's truth, and a redelivery of a committed event is recognised.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, STREAM_NAMES } from '../../connector/streams/catalog.js';
import { readWebhookSecrets } from '../../connector/webhooks/secret-file.js';
import { finishCli, startCli } from '../cli-process.js';
import { compareWithTruth, configFor } from '../connector/helpers.js';
import { bigqueryWarehouse, warehouseView, type TestWarehouse } from '../loaders/warehouses.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { health, startServe, until, type RunningServe } from './helpers.js';

const EVENT_STREAMS = STREAM_NAMES.filter((stream) => STREAMS[stream].changes === 'events' && stream !== 'events');

let sim: RunningSimulator;
let warehouse: TestWarehouse;
let running: RunningServe;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'serve-bigquery', objects: 800, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, webhookRetryBaseMs: 100, webhookDuplicateRate: 0.3, webhookShuffle: true });
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-serve-bigquery-'));
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const admin = join(dir, 'admin.json');
  writeFileSync(admin, JSON.stringify(configFor(sim, { api_key: 'sk_test_simulator' })));
  const secretFile = join(dir, 'secrets.json');
  const registered = await finishCli(startCli(['webhooks', 'register', '--config', admin, '--url', `http://127.0.0.1:${port}/webhooks`, '--secret-file', secretFile]));
  expect(registered.code, registered.stderr).toBe(0);
  warehouse = await bigqueryWarehouse();
  running = await startServe(sim, { warehouse: warehouse.loader, port, secrets: readWebhookSecrets(secretFile), dir });
  await running.serve.sync();
}, 180_000);

afterAll(async () => {
  await running?.serve.stop();
  await warehouse?.close();
  await sim?.close();
});

describe('serve on BigQuery', () => {
  it('commits deliveries (some twice, out of order) so that the event streams equal the truth, each event id once', async () => {
    await control(sim, 'advance', { days: 10 });
    await sim.server.webhooksIdle();
    await until(async () => {
      const now = await health(running.url);
      return now.events.pending === 0 && now.warehouse.error === null;
    });
    await running.serve.commitJournal();
    const after = await health(running.url);
    expect(after.events.applied).toBeGreaterThan(10);
    expect(after.events.duplicates).toBeGreaterThan(0);
    const comparison = await compareWithTruth(sim, await warehouseView(warehouse.loader));
    const ours = (key: string) => EVENT_STREAMS.includes(key.split('/')[0] as (typeof EVENT_STREAMS)[number]);
    expect(comparison.missing.filter(ours)).toEqual([]);
    expect(comparison.different.filter(ours)).toEqual([]);
    expect(comparison.unexpected.filter(ours)).toEqual([]);
    const { rows } = await warehouse.loader.client.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM `test-project.stripe_elt.webhook_events`');
    expect(Number(rows[0]?.n)).toBe(after.events.applied + after.events.ignored);
    expect(Number(rows[0]?.ids)).toBe(Number(rows[0]?.n));
  }, 300_000);
});
