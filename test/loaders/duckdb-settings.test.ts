// DuckDB's settings by what paces the records: a load that reads Stripe in the same process gets
// a small memory limit and one thread (Stripe is three times slower than DuckDB on one thread);
// `write`, paced by its input, keeps the default and every core. (A build's: transforms/memory.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openWarehouse, type Warehouse } from '../../connector/loaders/warehouse.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function opened(options: Parameters<typeof openWarehouse>[1]): Promise<Warehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-settings-'));
  dirs.push(dir);
  const warehouse = await openWarehouse(`duckdb:${join(dir, 'w.duckdb')}`, options);
  await warehouse.open();
  return warehouse;
}

async function settings(warehouse: Warehouse): Promise<Record<string, string>> {
  const { rows } = await warehouse.client.query("select name, value from duckdb_settings() where name in ('memory_limit', 'threads', 'preserve_insertion_order')");
  return Object.fromEntries(rows.map((row) => [String(row.name), String(row.value)]));
}

describe("DuckDB's settings", () => {
  it('a load paced by Stripe: 128MB and one thread; otherwise 256MB and a thread per core; --duckdb-memory-limit wins', async () => {
    const paced = await opened({ pacedByStripe: true });
    const plain = await opened({});
    const given = await opened({ pacedByStripe: true, duckdbMemoryLimit: '300MB' });
    try {
      expect(await settings(paced)).toEqual({ memory_limit: '122.0 MiB', threads: '1', preserve_insertion_order: 'true' });
      // DuckDB's own default: a thread per core it may use.
      await paced.client.execute('RESET threads');
      const everyCore = (await settings(paced)).threads;
      expect(await settings(plain)).toEqual({ memory_limit: '244.1 MiB', threads: everyCore, preserve_insertion_order: 'true' });
      expect((await settings(given)).memory_limit).toBe('286.1 MiB');
    } finally {
      await Promise.all([paced.close(), plain.close(), given.close()]);
    }
  });
});
