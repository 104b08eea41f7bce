// Full refreshes and destination sync modes: a full refresh commits in batches like any load,
// leaves no cursor behind, and `overwrite` replaces what the refresh did not read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../connector/commands/load.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { parseConfiguredCatalog } from '../../connector/protocol/inputs.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, truth } from '../simulator-spec/helpers.js';
import { allStreams, compareWithTruth, configFor } from '../connector/helpers.js';
import { duckdbWarehouse, warehouseView, type TestWarehouse } from './warehouses.js';

const config = (sim: RunningSimulator, extra: Record<string, unknown> = {}) => resolveConfig(configFor(sim, extra), 'config', {});

describe('a full refresh', () => {
  let sim: RunningSimulator;
  let warehouse: TestWarehouse;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 'full-refresh', objects: 3000, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    warehouse = await duckdbWarehouse();
  });
  afterAll(async () => {
    await warehouse.close();
    await sim.close();
  });

  it('checkpoints and commits in batches, as an incremental load does', async () => {
    const streams = STREAM_NAMES.map((name) => ({ name, syncMode: 'full_refresh' as const }));
    const result = await load({ config: config(sim), streams, loader: warehouse.loader, logger: silentLogger(), batchRecords: 200 });
    expect(result.pipeline.records).toBeGreaterThan(3000);
    // Not all at the end: how many depends on how fast records come while a commit runs.
    expect(result.pipeline.commits).toBeGreaterThan(1);
    const states = await warehouse.loader.states();
    expect([...states.values()].every((state) => state.sync_mode === 'full_refresh')).toBe(true);
    const comparison = await compareWithTruth(sim, await warehouseView(warehouse.loader));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
  });

  it('leaves no cursor: an incremental load after it reads everything again, and keeps a cursor from then on', async () => {
    const streams = allStreams();
    const result = await load({ config: config(sim), streams, loader: warehouse.loader, logger: silentLogger() });
    const customers = (await truth(sim)).filter((l) => l.stream === 'customers' && !l.deleted).length;
    expect(customers).toBeGreaterThan(100);
    expect(result.read.records.get('customers')).toBe(customers);
    const states = await warehouse.loader.states();
    expect([...states.values()].some((state) => state.sync_mode !== undefined)).toBe(false);
    expect(Object.values(states.get('customers')?.accounts ?? {}).every((p) => p.events !== undefined)).toBe(true);
  });
});

describe('destination_sync_mode', () => {
  it('overwrite: once the refresh completes, rows it did not read are marked deleted; append_dedup keeps them', async () => {
    const sim = await startSimulator({ seed: 'overwrite', objects: 3000, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const warehouse = await duckdbWarehouse();
    try {
      const all = allStreams();
      await load({ config: config(sim), streams: all, loader: warehouse.loader, logger: silentLogger() });
      const since = Date.UTC(2026, 6, 1) / 1000;
      const older = (rows: Awaited<ReturnType<typeof warehouseView>>) => [...rows.values()].filter((r) => r.stream === 'customers' && (r.data.created as number) < since);
      expect(older(await warehouseView(warehouse.loader)).length).toBeGreaterThan(10);
      // Time passes between loads, as it does in Stripe: the refreshes observe later than the first load.
      await control(sim, 'advance', { hours: 1 });
      const refresh = (mode: string) => parseConfiguredCatalog({ streams: [{ stream: { name: 'customers' }, sync_mode: 'full_refresh', destination_sync_mode: mode }] });
      await load({ config: config(sim, { start_date: '2026-07-01' }), streams: refresh('append_dedup'), loader: warehouse.loader, logger: silentLogger() });
      expect(older(await warehouseView(warehouse.loader)).every((r) => !r.data.deleted)).toBe(true);
      await load({ config: config(sim, { start_date: '2026-07-01' }), streams: refresh('overwrite'), loader: warehouse.loader, logger: silentLogger() });
      const after = await warehouseView(warehouse.loader);
      expect(older(after).length).toBeGreaterThan(10);
      expect(older(after).every((r) => r.data.deleted)).toBe(true);
      expect([...after.values()].filter((r) => r.stream === 'customers' && (r.data.created as number) >= since).some((r) => r.data.deleted === true && !r.data.name)).toBe(false);
    } finally {
      await warehouse.close();
      await sim.close();
    }
  });

  it('refuses modes the raw tables cannot honour, saying which to use', () => {
    const catalog = (sync: string, destination: string) => ({ streams: [{ stream: { name: 'charges' }, sync_mode: sync, destination_sync_mode: destination }] });
    expect(() => parseConfiguredCatalog(catalog('incremental', 'append'), 'catalog.json')).toThrow(
      'catalog.json: the stream "charges" asks for destination_sync_mode "append". The raw tables keep one row per object, its latest version: use "append_dedup" (incremental or full_refresh), or "overwrite" with full_refresh.',
    );
    expect(() => parseConfiguredCatalog(catalog('incremental', 'overwrite'), 'catalog.json')).toThrow(/incremental with overwrite, which would drop what earlier syncs read/);
    expect(parseConfiguredCatalog(catalog('full_refresh', 'overwrite'))[0]).toEqual({ name: 'charges', syncMode: 'full_refresh', destinationSyncMode: 'overwrite' });
    expect(() => parseConfiguredCatalog({ streams: [] }, 'catalog.json')).toThrow(/^catalog.json selects no streams: there is nothing to read/);
  });
});
