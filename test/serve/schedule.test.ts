// What `serve` runs on its own: the sync at start and then on schedule (bringing the warehouse
// to Stripe's truth), and a build of the models after a commit of events, published in the
// read-only copy that analysts open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReader } from '../../connector/loaders/warehouse.js';
import { compareWithTruth } from '../connector/helpers.js';
import { warehouseView } from '../loaders/warehouses.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, stripeFor } from '../simulator-spec/helpers.js';
import { PLATFORM_ENDPOINT, deliver, eventOf, health, signature, startServe, until, type RunningServe } from './helpers.js';

let sim: RunningSimulator;
let running: RunningServe;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'serve-schedule', objects: 1200, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  running = await startServe(sim, { syncEverySeconds: 2, transformEverySeconds: 1 });
}, 60_000);

afterAll(async () => {
  await running?.serve.stop();
  await running?.warehouse.close();
  await sim?.close();
});

describe('serve on its own', () => {
  it('syncs at start and again on schedule: after Stripe changes, a later sync brings the warehouse to the truth', async () => {
    await until(async () => (await health(running.url)).last_sync?.outcome === 'succeeded', 120_000);
    await control(sim, 'advance', { days: 5 });
    const advancedAt = new Date().toISOString();
    await until(async () => {
      const sync = (await health(running.url)).last_sync;
      return sync?.outcome === 'succeeded' && sync.started_at > advancedAt;
    }, 120_000);
    const comparison = await compareWithTruth(sim, await warehouseView(running.warehouse));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
    expect(comparison.matched).toBeGreaterThan(1000);
  }, 240_000);

  it('builds the models after a commit of events, and publishes them in the read-only copy', async () => {
    const [customer] = (await stripeFor(sim).customers.list({ limit: 1 })).data as unknown as Record<string, unknown>[];
    const clock = (await control<{ now: number }>(sim, 'info')).now;
    const body = eventOf('evt_build1', 'customer.updated', clock + 5, { ...customer, name: 'Built By Serve' });
    const sentAt = new Date().toISOString();
    expect((await deliver(running.url, body, signature(body, PLATFORM_ENDPOINT.secret))).status).toBe(200);
    await until(async () => {
      const now = await health(running.url);
      return now.last_transform?.outcome === 'succeeded' && now.last_transform.started_at > sentAt && now.read_copy?.published_at >= now.last_transform.finished_at;
    }, 180_000);
    const copy = await openReader(`duckdb:${(await health(running.url)).read_copy.path as string}`);
    try {
      const { rows } = await copy.query('SELECT DISTINCT name FROM stripe_marts.customers WHERE customer_id = $id', { id: customer?.id as string });
      expect(rows).toEqual([{ name: 'Built By Serve' }]);
    } finally {
      await copy.close();
    }
  }, 240_000);
});
