// DuckDB's native library is loaded by the commands that write to DuckDB, not by the source's:
// `spec`, `check`, `discover` and `read` start without it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { finishCli, startCli } from '../cli-process.js';
import { configFor } from './helpers.js';

const HOOK = resolve('test/connector/native-libraries-hook.mjs');

let sim: RunningSimulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'native', objects: 200, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-native-'));
});
afterAll(() => sim.close());

/** Runs a command; returns its exit code and the DuckDB libraries it had loaded when it exited. */
async function duckdbLibraries(name: string, args: readonly string[], input?: string): Promise<{ code: number | null; duckdb: string[] }> {
  const report = join(dir, `${name}.libraries`);
  const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${HOOK}`, NATIVE_LIBRARIES_REPORT: report };
  const result = await finishCli(startCli(args, { env, ...(input !== undefined ? { input } : {}) }));
  const libraries = readFileSync(report, 'utf8').split('\n');
  return { code: result.code, duckdb: libraries.filter((path) => /duckdb/i.test(path)).map((path) => path.slice(path.lastIndexOf('/') + 1)) };
}

describe("DuckDB's native library", () => {
  it('is not loaded by spec, check, discover or read', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(configFor(sim)));
    const catalog = join(dir, 'catalog.json');
    writeFileSync(catalog, JSON.stringify({ streams: [{ stream: { name: 'coupons', json_schema: {}, supported_sync_modes: ['incremental'] }, sync_mode: 'incremental' }] }));
    const runs = await Promise.all([
      duckdbLibraries('spec', ['spec']),
      duckdbLibraries('check', ['check', '--config', config]),
      duckdbLibraries('discover', ['discover', '--config', config]),
      duckdbLibraries('read', ['read', '--config', config, '--catalog', catalog]),
    ]);
    expect(runs).toEqual([...Array(4)].map(() => ({ code: 0, duckdb: [] })));
  });

  it('is loaded by write, which loads into DuckDB', async () => {
    const { code, duckdb } = await duckdbLibraries('write', ['write', '--warehouse', `duckdb:${join(dir, 'write.duckdb')}`], '');
    expect(code).toBe(0);
    expect(duckdb).toContain('duckdb.node');
  });
});
