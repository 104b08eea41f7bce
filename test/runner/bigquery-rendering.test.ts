// Every model rendered for BigQuery, and the statements the runner wraps it in, parse as
// BigQuery SQL (sql-parser-cst's BigQuery dialect): one model, two dialects, through macros.
import { describe, expect, it } from 'vitest';
import { parse as parseSql } from 'sql-parser-cst';
import { bigquery, duckdb } from '../../transforms/dialects.js';
import { readProject } from '../../transforms/project.js';
import { TransformRun } from '../../transforms/runner.js';
import { offlineWarehouse } from '../../transforms/warehouse.js';

const FIXTURE = new URL('./fixtures/shop', import.meta.url).pathname;

/** Compiling needs no warehouse. */
const offline = offlineWarehouse('bigquery', 'bigquery:offline');

function parsesAsBigQuery(sql: string): void {
  expect(() => parseSql(sql, { dialect: 'bigquery' }), sql).not.toThrow();
}

describe('the BigQuery rendering', () => {
  const dialect = bigquery;
  const run = new TransformRun({ project: readProject(FIXTURE), warehouse: offline, ledger: offline, dialect, target: { type: 'bigquery', schema: 'stripe_marts', database: 'my-project', name: 'test' } });

  it("of every model, full and incremental, parses, with BigQuery's relation names and the BigQuery macros", () => {
    const models = [...run.graph.nodes.values()].filter((n) => n.kind === 'model' && n.config.materialized !== 'ephemeral');
    expect(models.length).toBe(5);
    for (const node of models) {
      parsesAsBigQuery(run.compile(node.id));
      parsesAsBigQuery(run.compile(node.id, true));
    }
    const orders = run.compile('model.stg_orders');
    expect(orders).toContain('CAST(ROUND(amount * 100) AS INT64)');
    expect(orders).toContain('`raw`.`orders`');
    expect(run.compile('model.orders_latest', true)).toContain('(select max(updated_at) from `marts`.`orders_latest`)');
  });

  it('of the materializations, seeds and schemas parses', () => {
    const relation = dialect.relation('marts', 'orders_latest');
    const sql = run.compile('model.orders_latest', true);
    for (const statement of [
      dialect.createSchema(relation),
      dialect.createView(relation, sql),
      dialect.createTable(relation, sql),
      dialect.drop(relation, 'view'),
      ...dialect.incremental('merge', relation, sql, ['id'], ['id', 'status']),
      ...dialect.incremental('delete+insert', relation, sql, ['id'], ['id', 'status']),
      ...dialect.incremental('append', relation, sql, [], ['id', 'status']),
      ...dialect.seed(relation, [{ name: 'code', type: 'STRING' }], [["'DE'"]]),
    ]) {
      parsesAsBigQuery(statement);
    }
  });

  it('is not the DuckDB one: the same model renders with DuckDB quoting and macros there', () => {
    const local = new TransformRun({ project: readProject(FIXTURE), warehouse: offlineWarehouse('duckdb', 'duckdb:offline'), ledger: offline, dialect: duckdb, target: { type: 'duckdb', schema: 'main', name: 'test' } });
    expect(local.compile('model.stg_orders')).toContain('cast(round(amount * 100) as bigint)');
    expect(local.compile('model.stg_orders')).toContain('"raw"."orders"');
  });
});
