// Whether Stripe's changes reach the warehouse by webhook, by the scheduled sync's events pass,
// or both, the raw tables end equal to Stripe's truth, and the marts built after the commits
// equal a full rebuild. The simulator delivers as Stripe does: signed, at the endpoint's API
// version, retried with backoff while the receiver is down, some events twice, not in order.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReader } from '../../connector/loaders/warehouse.js';
import { STREAM_NAMES, type StreamName } from '../../connector/streams/catalog.js';
import type { EndpointSecret } from '../../connector/webhooks/secret-file.js';
import { finishCli, startCli } from '../cli-process.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { EVENT_STREAMS, differences, freePort, health, registerEndpoints, settled, startServe, until, type RunningServe } from './helpers.js';

let sim: RunningSimulator;
let running: RunningServe;
let port: number;
let secrets: EndpointSecret[];
let dir: string;

/** Asserts the raw tables of these streams equal the truth. */
async function expectTruth(streams: readonly StreamName[]): Promise<number> {
  const result = await differences(sim, running.warehouse, streams);
  expect(result.missing).toEqual([]);
  expect(result.different).toEqual([]);
  expect(result.unexpected).toEqual([]);
  return result.matched;
}

async function start(): Promise<void> {
  running = await startServe(sim, { port, secrets, dir, ...(running ? { warehouse: running.warehouse } : {}) });
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
  secrets = await registerEndpoints(sim, dir, port);
  expect(secrets.map((e) => e.connect)).toEqual([false, true]);
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
    await settled(sim, running);
    const after = await health(running.url);
    expect(after.events.applied).toBeGreaterThan(150);
    expect(after.events.duplicates).toBeGreaterThan(0);
    expect(await expectTruth(EVENT_STREAMS)).toBeGreaterThan(1000);
    await running.serve.transformNow();
  }, 300_000);

  it('by webhook while the receiver was down for a while: Stripe retries, and nothing is missing once it is back', async () => {
    await running.serve.stop();
    await control(sim, 'advance', { days: 2 });
    // Deliveries fail (connection refused) and wait for their retries.
    await until(async () => (await control<{ endpoints: { failed_attempts: number }[] }>(sim, 'webhooks')).endpoints.some((e) => e.failed_attempts > 0));
    await start();
    await settled(sim, running);
    await expectTruth(EVENT_STREAMS);
  }, 300_000);

  it('by webhook and by a sync at the same time: every stream equals the truth', async () => {
    await control(sim, 'advance', { days: 2 });
    await Promise.all([running.serve.sync(), settled(sim, running)]);
    await settled(sim, running);
    await expectTruth(STREAM_NAMES);
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
