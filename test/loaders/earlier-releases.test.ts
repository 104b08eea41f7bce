// A warehouse written by an earlier release opens unchanged: its states (version 1) are read and
// upgraded, a load goes on from them to the truth, and another platform is still refused.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../connector/commands/load.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { allStreams, compareWithTruth, configFor } from '../connector/helpers.js';
import { warehouseView, withDuckDB } from './warehouses.js';

const streams = allStreams();
let dir: string;
let original: string;

/** A copy of the release's file, to open. */
function copy(name: string): string {
  const path = join(dir, name);
  copyFileSync(original, path);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-earlier-'));
  original = join(dir, 'stripe-elt-0.1.duckdb');
  writeFileSync(original, gunzipSync(readFileSync(new URL('../fixtures/warehouses/stripe-elt-0.1.duckdb.gz', import.meta.url))));
});

describe('a warehouse written by stripe-elt 0.1', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 'v1-warehouse', objects: 600, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  });
  afterAll(() => sim.close());

  it('opens, its version-1 states read as the current version', async () => {
    const states = await withDuckDB(copy('read.duckdb'), (loader) => loader.states());
    expect([...states.keys()].sort()).toEqual([...STREAM_NAMES].sort());
    const customers = states.get('customers');
    expect(customers?.version).toBe(2);
    expect(customers?.platform).toBeUndefined();
    for (const partition of Object.values(customers?.accounts ?? {})) {
      // Version 1 stamped records with the response's time: what a complete backfill listed was observed from its end on.
      expect(partition.complete?.since).toBe(partition.complete?.to);
      expect(partition.history_from).toBe(partition.complete?.from);
      expect(partition.events?.cursor).toBeGreaterThan(0);
    }
  });

  it('loads on from its states: after time passes, it equals Stripe, and now names its platform', async () => {
    const path = copy('load.duckdb');
    await control(sim, 'advance', { days: 5 });
    const platform = (await control<{ platform: string }>(sim, 'info')).platform;
    await control(sim, 'stats/reset', {});
    const result = await withDuckDB(path, (loader) => load({ config: resolveConfig(configFor(sim), 'config', {}), streams, loader, logger: silentLogger() }));
    // It went on from the states: it read changes, not everything again.
    expect(result.pipeline.records).toBeLessThan(636);
    await withDuckDB(path, async (loader) => {
      const comparison = await compareWithTruth(sim, await warehouseView(loader));
      expect(comparison.missing).toEqual([]);
      expect(comparison.different).toEqual([]);
      expect(comparison.unexpected).toEqual([]);
      expect(await loader.platform()).toBe(platform);
    });
  });

  it("refuses another platform's key, through the accounts its states hold", async () => {
    const other = await startSimulator({ seed: 'not-v1-warehouse', objects: 300, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    try {
      const otherPlatform = (await control<{ platform: string }>(other, 'info')).platform;
      await expect(withDuckDB(copy('other.duckdb'), (loader) => load({ config: resolveConfig(configFor(other), 'config', {}), streams, loader, logger: silentLogger() }))).rejects.toThrow(
        `holds another Stripe platform's data (its states name none of ${otherPlatform}'s accounts), and this data is of ${otherPlatform}: one warehouse holds one platform's data.`,
      );
    } finally {
      await other.close();
    }
  });
});
