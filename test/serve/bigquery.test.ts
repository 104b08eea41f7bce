// `serve` on BigQuery (through the real client against the local endpoint): a sync at start, then
// deliveries by the simulator, redelivered and shuffled, end with the event streams equal to
// Stripe's truth, and a redelivery of a committed event is recognised.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigqueryWarehouse, type TestWarehouse } from '../loaders/warehouses.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { EVENT_STREAMS, differences, freePort, health, registerEndpoints, settled, startServe, type RunningServe } from './helpers.js';

let sim: RunningSimulator;
let warehouse: TestWarehouse;
let running: RunningServe;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'serve-bigquery', objects: 800, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, webhookRetryBaseMs: 100, webhookDuplicateRate: 0.3, webhookShuffle: true });
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-serve-bigquery-'));
  const port = await freePort();
  const secrets = await registerEndpoints(sim, dir, port);
  warehouse = await bigqueryWarehouse();
  running = await startServe(sim, { warehouse: warehouse.loader, port, secrets, dir });
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
    await settled(sim, running);
    const after = await health(running.url);
    expect(after.events.applied).toBeGreaterThan(10);
    expect(after.events.duplicates).toBeGreaterThan(0);
    const result = await differences(sim, warehouse.loader, EVENT_STREAMS);
    expect(result.missing).toEqual([]);
    expect(result.different).toEqual([]);
    expect(result.unexpected).toEqual([]);
    const { rows } = await warehouse.loader.client.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM `test-project.stripe_elt.webhook_events`');
    expect(Number(rows[0]?.n)).toBe(after.events.applied + after.events.ignored);
    expect(Number(rows[0]?.ids)).toBe(Number(rows[0]?.n));
  }, 300_000);
});
