// A staging table empty at its build (a stream with no objects yet) takes every raw row at the
// next incremental build: its watermark, the newest synced_at it holds, is "none", not null.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { transform } from '../../connector/commands/transform.js';
import { createTableStatement, RAW_TABLE } from '../../connector/loaders/duckdb/tables.js';
import { openWarehouse } from '../../connector/loaders/warehouse.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
describe('an incremental build of a staging table that was empty', () => {
  it('takes every raw row when its table held none at its last build', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'stripe-elt-incremental-empty-'));
    const warehouse = await openWarehouse(`duckdb:${join(empty, 'w.duckdb')}`);
    try {
      await warehouse.open();
      await warehouse.migrate();
      await warehouse.client.execute('CREATE SCHEMA IF NOT EXISTS stripe_raw');
      for (const stream of STREAM_NAMES) await warehouse.client.execute(createTableStatement(`stripe_raw."${stream}"`, RAW_TABLE));
      await warehouse.client.execute("INSERT INTO stripe_elt.settings VALUES ('mode', 'test'), ('platform', 'acct_platform')");
      const select = ['stg_stripe__disputes'];
      expect((await transform(warehouse, { select })).nodes.map((n) => [n.name, n.outcome, n.rows])).toEqual([['stg_stripe__disputes', 'success', 0]]);
      await warehouse.client.execute(
        `INSERT INTO stripe_raw.disputes VALUES ('acct_platform', 'dp_1', false, to_timestamp(1700000000), false, to_timestamp(1700000000), now(),
           '{"id": "dp_1", "object": "dispute", "amount": 500, "currency": "usd", "charge": "ch_1", "status": "needs_response", "reason": "fraudulent", "created": 1700000000}')`,
      );
      const second = await transform(warehouse, { select });
      expect(second.nodes.map((n) => [n.name, n.outcome, n.rows])).toEqual([['stg_stripe__disputes', 'success', 1]]);
      expect((await warehouse.client.query('SELECT id, amount FROM stripe_staging.stg_stripe__disputes_v1')).rows).toEqual([{ id: 'dp_1', amount: 500n }]);
    } finally {
      await warehouse.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
