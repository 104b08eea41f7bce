// Data tests as dbt compiles them: each is a query returning the offending rows; their count is
// checked against error_if / warn_if (default `!= 0`) at the test's severity. Built in: unique,
// not_null, accepted_values, relationships; the project's own generic tests are its
// `{% test %}` blocks (macros test_<name>); singular tests are SQL files in tests/.
import nunjucks from 'nunjucks';
import { TransformError } from './errors.js';
import type { GenericTestSpec, TestConfig } from './project.js';
import type { Relation, Renderer } from './render.js';

/** A test ready to run: its name as dbt names it, the node(s) it reads, and its SQL. */
export interface CompiledTest {
  readonly name: string;
  /** The node the test belongs to (model, seed), for reports. */
  readonly attachedTo: string;
  /** Every node whose relation the test reads. */
  readonly parents: readonly string[];
  readonly sql: string;
  readonly config: TestConfig;
}

function quoteValue(value: unknown, quote: boolean): string {
  if (!quote || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

/** The model's relation, narrowed by the test's `where` as dbt does. */
function scoped(relation: string, config: TestConfig): string {
  return config.where ? `(select * from ${relation} where ${config.where}) dbt_subquery` : relation;
}

/** A value as Python prints it, as dbt's test names show their arguments. */
function pythonText(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  return String(value);
}

/**
 * dbt's name of a generic test: the test and the node, then its arguments (the column among
 * them) by name, each made safe, joined by `__`.
 */
export function testName(spec: GenericTestSpec, nodeName: string): string {
  const args: Record<string, unknown> = { ...spec.args, ...(spec.column !== undefined ? { column_name: spec.column } : {}) };
  const flat = Object.keys(args)
    .filter((key) => key !== 'model')
    .sort()
    .flatMap((key) => {
      const value = args[key];
      if (Array.isArray(value)) return value.map(pythonText);
      if (value && typeof value === 'object') return Object.values(value).map(pythonText);
      return [pythonText(value)];
    })
    .map((part) => part.replace(/[^0-9a-zA-Z_]+/g, '_'));
  return flat.length > 0 ? `${spec.test}_${nodeName}_${flat.join('__')}` : `${spec.test}_${nodeName}`;
}

export interface GenericTestContext {
  readonly renderer: Renderer;
  /** The relation of the node the test belongs to. */
  readonly relation: Relation;
  /** Resolves `ref('x')` written in an argument (relationships' `to`), with the ids it names. */
  readonly resolveArgument: (text: string) => { sql: string; parents: string[] };
}

/** The SQL of a generic test, built in or the project's. */
export function genericTestSql(spec: GenericTestSpec, context: GenericTestContext, where: string): { sql: string; parents: string[] } {
  const model = scoped(context.relation.rendered, spec.config);
  const column = spec.column ?? (typeof spec.args.column_name === 'string' ? spec.args.column_name : undefined);
  const needColumn = () => {
    if (!column) throw new TransformError(`${where}: the ${spec.test} test needs a column (put it under a column, or give column_name).`);
    return column;
  };
  switch (spec.test) {
    case 'not_null':
      return { sql: `select * from ${model} where ${needColumn()} is null`, parents: [] };
    case 'unique': {
      const c = needColumn();
      return { sql: `select ${c} as unique_field, count(*) as n_records from ${model} where ${c} is not null group by ${c} having count(*) > 1`, parents: [] };
    }
    case 'accepted_values': {
      const c = needColumn();
      const values = spec.args.values;
      if (!Array.isArray(values) || values.length === 0) throw new TransformError(`${where}: accepted_values needs a list of values.`);
      const quote = spec.args.quote !== false;
      return {
        sql: `with all_values as (select ${c} as value_field, count(*) as n_records from ${model} group by ${c})
select * from all_values where value_field not in (${values.map((v) => quoteValue(v, quote)).join(', ')})`,
        parents: [],
      };
    }
    case 'relationships': {
      const c = needColumn();
      const to = spec.args.to;
      const field = spec.args.field;
      if (typeof to !== 'string' || typeof field !== 'string') throw new TransformError(`${where}: relationships needs to (such as ref('stg_stripe__accounts')) and field.`);
      const parent = context.resolveArgument(to);
      return {
        sql: `with child as (select ${c} as from_field from ${model} where ${c} is not null),
parent as (select ${field} as to_field from ${parent.sql})
select from_field from child left join parent on child.from_field = parent.to_field where parent.to_field is null`,
        parents: parent.parents,
      };
    }
    default: {
      const macro = context.renderer.macro(`test_${spec.test}`);
      if (!macro) throw new TransformError(`${where}: there is no test ${spec.test} (built in: unique, not_null, accepted_values, relationships; or a {% test ${spec.test} %} block in tests/generic/).`);
      const keywordArgs = (nunjucks as unknown as { runtime: { makeKeywordArgs(o: object): object } }).runtime.makeKeywordArgs({ ...spec.args, model, ...(column ? { column_name: column } : {}) });
      return { sql: context.renderer.callMacro(`test_${spec.test}`, [keywordArgs], where), parents: [] };
    }
  }
}

export type TestOutcome = 'pass' | 'warn' | 'fail';

/** `!= 0`, `> 10`, `>= 1`, `= 0`, `< 5`, `<= 5`, `== 0`: whether `failures` meets it. */
export function meets(condition: string, failures: number): boolean {
  const match = /^\s*(!=|==|=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(condition);
  if (!match) throw new TransformError(`error_if/warn_if must be a comparison such as "!= 0" or "> 10", not "${condition}".`);
  const n = Number(match[2]);
  switch (match[1]) {
    case '!=':
      return failures !== n;
    case '==':
    case '=':
      return failures === n;
    case '>=':
      return failures >= n;
    case '<=':
      return failures <= n;
    case '>':
      return failures > n;
    default:
      return failures < n;
  }
}

/** The outcome of a test that found `failures` rows, as dbt decides it. */
export function outcomeOf(config: TestConfig, failures: number): TestOutcome {
  if (config.severity === 'error' && meets(config.error_if, failures)) return 'fail';
  if (meets(config.warn_if, failures)) return 'warn';
  return 'pass';
}
