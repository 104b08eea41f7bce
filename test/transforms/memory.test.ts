// A build's memory: the marts join and window whole tables, which a load's 256MB cannot hold, so
// `transform` (and the builds of `sync` and `serve`) give DuckDB half of the machine's memory
// and DuckDB's own thread count unless --duckdb-memory-limit says otherwise; the load's settings
// come back after. A model of a project of its own reads the settings while it is built.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transform } from '../../connector/commands/transform.js';
import { duckdbWarehouse, type TestWarehouse } from '../loaders/warehouses.js';

let warehouse: TestWarehouse;
let project: string;

/** A size as DuckDB shows it (`11.7 GiB`, `256.0 MiB`, …), in bytes. */
function bytes(size: unknown): number {
  const match = /^([\d.]+) (KiB|MiB|GiB|TiB)$/.exec(String(size));
  if (!match) throw new Error(`memory_limit is ${String(size)}`);
  return Number(match[1]) * 2 ** (10 * ['KiB', 'MiB', 'GiB', 'TiB'].indexOf(match[2] as string) + 10);
}

async function settingsNow(): Promise<{ memory: number; threads: string }> {
  const { rows } = await warehouse.loader.client.query("SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads");
  return { memory: bytes(rows[0]?.memory_limit), threads: String(rows[0]?.threads) };
}

/** The settings the probe model saw while the build ran. */
async function settingsDuringBuild(options: { duckdbMemoryLimit?: string } = {}): Promise<{ memory: number; threads: string }> {
  const summary = await transform(warehouse.loader, { projectDir: project, ...options });
  expect(summary.failures).toBe(0);
  const { rows } = await warehouse.loader.client.query(`SELECT memory_limit, threads FROM "${warehouse.loader.names.marts}".settings_during_build`);
  return { memory: bytes(rows[0]?.memory_limit), threads: String(rows[0]?.threads) };
}

beforeAll(async () => {
  warehouse = await duckdbWarehouse();
  project = mkdtempSync(join(tmpdir(), 'stripe-elt-settings-project-'));
  mkdirSync(join(project, 'models'));
  writeFileSync(join(project, 'dbt_project.yml'), 'name: settings_probe\nversion: "1.0.0"\nprofile: settings_probe\nmodel-paths: ["models"]\nmodels:\n  settings_probe:\n    +materialized: table\n');
  writeFileSync(join(project, 'models', 'settings_during_build.sql'), "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads\n");
});
afterAll(async () => {
  await warehouse?.close();
  rmSync(project, { recursive: true, force: true });
});

describe("a build's memory", () => {
  it("is half of the machine's, with DuckDB's own thread count, during a build by default, and the load's settings again after it", async () => {
    await warehouse.loader.client.execute('RESET threads');
    const ownThreads = (await settingsNow()).threads;
    // As sync and serve open the warehouse: one thread.
    await warehouse.loader.client.execute('SET threads = 1');
    const before = await settingsNow();
    expect(before.memory).toBeCloseTo(256e6, -6);
    const during = await settingsDuringBuild();
    expect(Math.abs(during.memory / (totalmem() / 2) - 1)).toBeLessThan(0.01);
    expect(during.threads).toBe(ownThreads);
    // Given back as DuckDB shows it (to a tenth of a MiB).
    const after = await settingsNow();
    expect(after.threads).toBe(before.threads);
    expect(after.memory).toBeCloseTo(before.memory, -6);
  });

  it('is what --duckdb-memory-limit gives', async () => {
    const during = await settingsDuringBuild({ duckdbMemoryLimit: '300MB' });
    expect(during.memory).toBeCloseTo(300e6, -6);
    expect((await settingsNow()).memory).toBeCloseTo(256e6, -6);
  });
});
