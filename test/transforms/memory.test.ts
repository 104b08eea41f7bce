// A build's memory: the marts join and window whole tables, which a load's 256MB cannot hold, so
// `transform` (and the builds of `sync` and `serve`) give DuckDB half of the machine's memory
// and every core unless --duckdb-memory-limit says otherwise; the load's settings come back after.
import { totalmem } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../connector/commands/load.js';
import { transform, withBuildSettings } from '../../connector/commands/transform.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { allStreams, configFor } from '../connector/helpers.js';
import { duckdbWarehouse, type TestWarehouse } from '../loaders/warehouses.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';

let sim: RunningSimulator;
let warehouse: TestWarehouse;

/** DuckDB's memory_limit in bytes (it shows it as `11.7 GiB`, `256.0 MiB`, …). */
async function memoryLimit(): Promise<number> {
  const { rows } = await warehouse.loader.client.query("SELECT current_setting('memory_limit') AS limit");
  const match = /^([\d.]+) (KiB|MiB|GiB|TiB)$/.exec(String(rows[0]?.limit));
  if (!match) throw new Error(`memory_limit is ${String(rows[0]?.limit)}`);
  return Number(match[1]) * 2 ** (10 * ['KiB', 'MiB', 'GiB', 'TiB'].indexOf(match[2] as string) + 10);
}

async function threads(): Promise<string> {
  const { rows } = await warehouse.loader.client.query("SELECT current_setting('threads') AS threads");
  return String(rows[0]?.threads);
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'build-memory', objects: 600, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  warehouse = await duckdbWarehouse();
  await load({ config: resolveConfig(configFor(sim), 'config', {}), streams: allStreams(), loader: warehouse.loader, logger: silentLogger() });
}, 120_000);
afterAll(async () => {
  await warehouse?.close();
  await sim?.close();
});

describe("a build's memory", () => {
  it("is half of the machine's and every core during a build by default, and the load's again after it", async () => {
    expect(await memoryLimit()).toBeCloseTo(256e6, -6);
    await warehouse.loader.client.execute('RESET threads');
    const everyCore = await threads();
    await warehouse.loader.client.execute('SET threads = 1');
    let during: [number, string] | undefined;
    const summary = await withBuildSettings(warehouse.loader.client, undefined, async () => {
      during = [await memoryLimit(), await threads()];
      return transform(warehouse.loader, {});
    });
    expect(summary.failures).toBe(0);
    expect(Math.abs((during?.[0] ?? 0) / (totalmem() / 2) - 1)).toBeLessThan(0.01);
    expect(during?.[1]).toBe(everyCore);
    expect(await memoryLimit()).toBeCloseTo(256e6, -6);
    expect(await threads()).toBe('1');
  });

  it('is what --duckdb-memory-limit gives', async () => {
    const during = await withBuildSettings(warehouse.loader.client, '300MB', memoryLimit);
    expect(during).toBeCloseTo(300e6, -6);
    await transform(warehouse.loader, { duckdbMemoryLimit: '300MB', select: ['stg_stripe__coupons'] });
    expect(await memoryLimit()).toBeCloseTo(256e6, -6);
  });
});
