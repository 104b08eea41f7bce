// Reads racing Stripe: objects renamed, updated and deleted while their list page is in flight
// (Stripe took the page's snapshot, the response leaves later with a later Date), and runs
// minutes apart whose events overlap.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, truth, type TruthLine } from '../simulator-spec/helpers.js';
import { compareWithTruth, configFor, latest, runRead } from './helpers.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

interface Held {
  held: { endpoint: string; account: string; path: string; rendered_at: number }[];
}

async function heldAtLeast(s: RunningSimulator, count: number): Promise<Held> {
  for (;;) {
    const state = await control<Held>(s, 'held');
    if (state.held.length >= count) return state;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The objects a held first page of a backfill slice holds: the newest of its created range. */
function onFirstPage(lines: readonly TruthLine[], stream: string, account: string, path: string): TruthLine[] {
  const query = new URLSearchParams(path.slice(path.indexOf('?') + 1));
  expect(query.has('starting_after')).toBe(false);
  const lo = Number(query.get('created[gte]'));
  const hi = Number(query.get('created[lte]'));
  const limit = Number(query.get('limit'));
  const inRange = lines.filter((l) => l.stream === stream && l.account_id === account && !l.deleted && (l.object.created as number) >= lo && (l.object.created as number) <= hi);
  // Newest first, as Stripe lists them; within a second the order is the simulator's, so only
  // objects of seconds wholly on the page are taken.
  const sorted = inRange.sort((a, b) => (b.object.created as number) - (a.object.created as number));
  const lastSecond = (sorted[Math.min(limit, sorted.length) - 1]?.object.created as number | undefined) ?? -Infinity;
  return sorted.slice(0, limit).filter((l) => (l.object.created as number) > lastSecond || sorted.length <= limit);
}

describe('a list page in flight', () => {
  it('misses no rename, update or deletion that lands between its snapshot and its response', async () => {
    sim = await startSimulator({ seed: 'in-flight', objects: 4000, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const info = await control<{ platform: string; now: number }>(sim, 'info');
    const platform = info.platform;
    await control(sim, 'hold', { endpoint: 'GET /v1/customers', account: platform, count: 1 });
    await control(sim, 'hold', { endpoint: 'GET /v1/products', account: platform, count: 1 });
    const config = configFor(sim);
    const streams = [{ name: 'customers' as const, syncMode: 'incremental' as const }, { name: 'products' as const, syncMode: 'incremental' as const }];
    const first = runRead({ config, streams });
    const { held } = await heldAtLeast(sim, 2);
    const lines = await truth(sim);
    const customersPath = held.find((h) => h.endpoint === 'GET /v1/customers')?.path as string;
    const productsPath = held.find((h) => h.endpoint === 'GET /v1/products')?.path as string;
    const [renamed, updated, deleted] = onFirstPage(lines, 'customers', platform, customersPath) as [TruthLine, TruthLine, TruthLine];
    const product = onFirstPage(lines, 'products', platform, productsPath).find((l) => l.object.active === true) as TruthLine;
    expect([renamed, updated, deleted, product].every(Boolean)).toBe(true);
    // Stripe has the pages' snapshots; the changes land now, and the responses leave a second later.
    await control(sim, 'change', {
      changes: [
        { account: platform, stream: 'customers', id: renamed.id, update: { name: 'Renamed In Flight' } },
        { account: platform, stream: 'customers', id: updated.id, update: { email: 'updated-in-flight@example.com', metadata: { tier: 'gold' } } },
        { account: platform, stream: 'customers', id: deleted.id, delete: true },
        { account: platform, stream: 'products', id: product.id, update: { name: 'Renamed Product', active: false } },
      ],
    });
    await control(sim, 'advance', { seconds: 1 });
    await control(sim, 'release', {});
    const firstRun = await first;
    expect(firstRun.error).toBeUndefined();
    // The page's stale snapshots were printed; they must not count as newer than the changes.
    expect(firstRun.records.find((r) => r.data.id === renamed.id)?.data.name).toBe(renamed.object.name);
    await control(sim, 'advance', { seconds: 30 });
    const second = await runRead({ config, streams, state: firstRun.state });
    const held2 = latest(firstRun.records, second.records);
    const comparison = await compareWithTruth(sim, held2);
    expect(comparison.missing.filter((k) => k.startsWith('customers/') || k.startsWith('products/'))).toEqual([]);
    expect(comparison.different.filter((k) => k.startsWith('customers/') || k.startsWith('products/'))).toEqual([]);
    expect(held2.get(`customers/${platform}/${renamed.id}`)?.data.name).toBe('Renamed In Flight');
    expect(held2.get(`customers/${platform}/${updated.id}`)?.data.email).toBe('updated-in-flight@example.com');
    expect(held2.get(`customers/${platform}/${deleted.id}`)?.data.deleted).toBe(true);
    expect(held2.get(`products/${platform}/${product.id}`)?.data).toMatchObject({ name: 'Renamed Product', active: false });
  });
});

describe('runs minutes apart', () => {
  it('apply (and fetch again) each event once, though their look-behind overlaps', async () => {
    sim = await startSimulator({ seed: 'minutes-apart', objects: 3000, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const platform = (await control<{ platform: string }>(sim, 'info')).platform;
    const config = configFor(sim);
    const streams = [{ name: 'customers' as const, syncMode: 'incremental' as const }];
    const customers = (await truth(sim)).filter((l) => l.stream === 'customers' && !l.deleted && l.account_id === platform);
    const [x, y] = customers as [TruthLine, TruthLine];
    const run1 = await runRead({ config, streams });
    await control(sim, 'change', { changes: [{ account: platform, stream: 'customers', id: x.id, update: { name: 'First change' } }] });
    await control(sim, 'advance', { seconds: 60 });
    const run2 = await runRead({ config, streams, state: run1.state });
    expect(run2.records.map((r) => r.data.id)).toEqual([x.id]);
    await control(sim, 'advance', { seconds: 60 });
    await control(sim, 'change', { changes: [{ account: platform, stream: 'customers', id: y.id, update: { name: 'Second change' } }] });
    await control(sim, 'advance', { seconds: 60 });
    const run3 = await runRead({ config, streams, state: run2.state });
    expect(run3.records.map((r) => r.data.id)).toEqual([y.id]);
    await control(sim, 'advance', { seconds: 60 });
    await control(sim, 'stats/reset', {});
    const run4 = await runRead({ config, streams, state: run3.state });
    expect(run4.records).toEqual([]);
    const stats = await control<{ by_endpoint: Record<string, number> }>(sim, 'stats');
    expect(stats.by_endpoint['GET /v1/customers/:id'] ?? 0).toBe(0);
  });
});
