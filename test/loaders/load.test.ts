// `load` against the simulator, into each warehouse: it ends equal to Stripe, and stays equal as
// Stripe changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowCounts } from '../../connector/commands/load.js';
import { load } from '../../connector/commands/load.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { allStreams, compareWithTruth, configFor } from '../connector/helpers.js';
import { WAREHOUSES, warehouseView, type TestWarehouse } from './warehouses.js';

const streams = allStreams();

describe.each(WAREHOUSES)('load into %s', (_name, create) => {
  let sim: RunningSimulator;
  let warehouse: TestWarehouse;
  beforeAll(async () => {
    sim = await startSimulator({ seed: `load-${_name}`, objects: 4000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
    warehouse = await create();
  });
  afterAll(async () => {
    await warehouse.close();
    await sim.close();
  });

  it('holds every object of every stream and account, as Stripe has them', async () => {
    const result = await load({ config: resolveConfig(configFor(sim), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() });
    expect(result.pipeline.records).toBeGreaterThan(4000);
    const comparison = await compareWithTruth(sim, await warehouseView(warehouse.loader));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
    expect([...(await warehouse.loader.states()).keys()].sort()).toEqual([...STREAM_NAMES].sort());
  });

  it('after time passes in Stripe, a second load brings it to the new truth, updates and deletions included', async () => {
    const summary = await control<{ updated: number; deleted: number }>(sim, 'advance', { days: 25, new_accounts: 1 });
    expect(summary.deleted).toBeGreaterThan(0);
    await load({ config: resolveConfig(configFor(sim), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() });
    const view = await warehouseView(warehouse.loader);
    const comparison = await compareWithTruth(sim, view);
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect([...view.values()].filter((r) => r.data.deleted).length).toBeGreaterThan(0);
  });

  it('refuses to load the other mode into it, before reading anything', async () => {
    // The loads above filled it with test-mode data.
    expect(await warehouse.loader.mode()).toBe('test');
    await control(sim, 'stats/reset', {});
    await expect(load({ config: resolveConfig(configFor(sim, { api_key: 'rk_live_simulator' }), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() })).rejects.toThrow(
      /holds test-mode data, and these records are live-mode data/,
    );
    expect((await control<{ total: number }>(sim, 'stats')).total).toBe(0);
  });

  it("refuses another platform's data, naming both accounts, having asked Stripe only whose key it is", async () => {
    const platform = (await control<{ platform: string }>(sim, 'info')).platform;
    expect(await warehouse.loader.platform()).toBe(platform);
    const other = await startSimulator({ seed: `other-platform-${_name}`, objects: 500, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    try {
      const otherPlatform = (await control<{ platform: string }>(other, 'info')).platform;
      expect(otherPlatform).not.toBe(platform);
      const before = await rowCounts(warehouse.loader.client, warehouse.loader.names);
      await expect(load({ config: resolveConfig(configFor(other), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() })).rejects.toThrow(
        `${warehouse.loader.description} holds the data of the Stripe platform ${platform}, and this data is of ${otherPlatform}: one warehouse holds one platform's data.`,
      );
      expect((await control<{ by_endpoint: Record<string, number> }>(other, 'stats')).by_endpoint).toEqual({ 'GET /v1/account': 1 });
      expect(await rowCounts(warehouse.loader.client, warehouse.loader.names)).toEqual(before);
    } finally {
      await other.close();
    }
  });
});
