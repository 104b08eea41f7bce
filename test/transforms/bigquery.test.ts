// The runner's BigQuery path, against the local BigQuery endpoint (test/bigquery-fake, which
// runs the SQL it is sent on DuckDB after translating BigQuery's functions): the BigQuery
// rendering of sql/ builds, every data test passes, each staging table holds its raw table's
// rows, and after a second load an incremental build (MERGE) equals a full refresh. Every
// statement sent parses as BigQuery SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseSql } from 'sql-parser-cst';
import { load } from '../../connector/commands/load.js';
import { transform } from '../../connector/commands/transform.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import type { TransformSummary } from '../../transforms/runner.js';
import { allStreams, configFor } from '../connector/helpers.js';
import { projectModels } from './dbt.js';
import { bigqueryWarehouse, type TestWarehouse } from '../loaders/warehouses.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';

const streams = allStreams();
let sim: RunningSimulator;
let warehouse: TestWarehouse;
let first: TransformSummary;

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await warehouse.loader.client.query(sql)).rows as Record<string, unknown>[];
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'bigquery-transform', objects: 1500, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  warehouse = await bigqueryWarehouse({ datasetPrefix: 'dev_' });
  await load({ config: resolveConfig(configFor(sim), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() });
  first = await transform(warehouse.loader, { datasetPrefix: 'dev_' });
}, 120_000);
afterAll(async () => {
  await warehouse?.close();
  await sim?.close();
});

describe('transform on BigQuery', () => {
  it('builds every model of sql/ in the prefixed datasets, every data test passing', () => {
    expect(first.nodes.map((n) => [n.name, n.outcome]).filter(([, outcome]) => outcome !== 'success')).toEqual([]);
    // Every model, and the seed.
    expect(first.nodes).toHaveLength(projectModels().length + 1);
    expect(first.tests.length).toBeGreaterThan(200);
    expect(first.tests.filter((t) => t.outcome !== 'pass')).toEqual([]);
  });

  it("gives every staging table its raw table's rows", async () => {
    for (const stream of STREAM_NAMES) {
      const [counts] = await rows(`SELECT (SELECT COUNT(*) FROM \`dev_stripe_raw\`.\`${stream}\`) AS raw, (SELECT COUNT(*) FROM \`dev_stripe_staging\`.\`stg_stripe__${stream}_v1\`) AS staged`);
      expect(counts?.staged, stream).toBe(counts?.raw);
    }
  });

  it('sends only SQL that parses as BigQuery SQL', () => {
    const sent = warehouse.fake?.queries ?? [];
    const transformSql = sent.filter((sql) => /stripe_staging/.test(sql));
    expect(transformSql.length).toBeGreaterThan(50);
    for (const sql of transformSql) expect(() => parseSql(sql, { dialect: 'bigquery', paramTypes: ['@name'] }), sql.slice(0, 300)).not.toThrow();
  });

  it('after a second load, builds incrementally with MERGE (staging and the ledger), equal to a full refresh', async () => {
    await control(sim, 'advance', { days: 10 });
    await load({ config: resolveConfig(configFor(sim), 'config', {}), streams, loader: warehouse.loader, logger: silentLogger() });
    const before = (warehouse.fake?.queries ?? []).length;
    const second = await transform(warehouse.loader, { datasetPrefix: 'dev_' });
    expect(second.failures).toBe(0);
    const merges = (warehouse.fake?.queries ?? []).slice(before).filter((sql) => sql.includes('MERGE INTO `dev_stripe_staging`.`stg_stripe__charges_v1`'));
    expect(merges).toHaveLength(1);
    // The ledger, incremental too: merged, then its post-hook.
    const ledger = (warehouse.fake?.queries ?? []).slice(before).filter((sql) => sql.includes('`dev_stripe_marts`.`balance_transactions`'));
    expect(ledger.some((sql) => sql.includes('MERGE INTO `dev_stripe_marts`.`balance_transactions`'))).toBe(true);
    expect(ledger.some((sql) => sql.trim().startsWith('delete from `dev_stripe_marts`.`balance_transactions` as ledger'))).toBe(true);
    const staged = async () => Object.fromEntries(await Promise.all(STREAM_NAMES.filter((s) => s !== 'accounts').map(async (s) => [s, await rows(`SELECT * FROM \`dev_stripe_staging\`.\`stg_stripe__${s}_v1\` ORDER BY account_id, id`)])));
    const snapshot = async () => ({ ...(await staged()), ledger: await rows('SELECT * FROM `dev_stripe_marts`.`balance_transactions` ORDER BY account_id, balance_transaction_id') });
    const incremental = await snapshot();
    const full = await transform(warehouse.loader, { datasetPrefix: 'dev_', fullRefresh: true });
    expect(full.failures).toBe(0);
    expect(await snapshot()).toEqual(incremental);
  });
});
