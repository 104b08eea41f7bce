// `dbt build` for the project in sql/: seeds, models and their data tests, in dependency order,
// each node's tests right after it. A node whose parent failed (or whose parent's tests failed at
// error severity) is skipped; every node's outcome is reported, none stops the others. Each build
// is recorded in the warehouse's ledger, and a model whose SQL changed without a new version is
// refused.
import { createHash } from 'node:crypto';
import { genericTestSql, outcomeOf, testName, type CompiledTest, type TestOutcome } from './data-tests.js';
import type { SqlDialect } from './dialects.js';
import { TransformError } from './errors.js';
import { buildGraph, sourceId, type BuildNode, type ProjectGraph } from './graph.js';
import type { Project } from './project.js';
import { Renderer, type RefCall, type Relation, type Resolver, type SourceCall, type Target } from './render.js';
import { seedStatements } from './seeds.js';
import { Selector } from './select.js';
import type { BuildLedger, Row, TransformWarehouse } from './warehouse.js';

export type NodeOutcome = 'success' | 'error' | 'skipped' | 'refused';

export interface NodeResult {
  readonly id: string;
  readonly kind: 'model' | 'seed';
  readonly name: string;
  readonly version: string | undefined;
  readonly materialized: string;
  readonly outcome: NodeOutcome;
  readonly rows: number | null;
  readonly seconds: number;
  readonly message?: string;
}

export interface TestResult {
  readonly name: string;
  readonly attachedTo: string;
  readonly outcome: TestOutcome | 'error' | 'skipped';
  readonly failures: number;
  /** Up to five offending rows. */
  readonly sample: readonly Row[];
  readonly message?: string;
}

export interface TransformSummary {
  readonly nodes: readonly NodeResult[];
  readonly tests: readonly TestResult[];
  /** Nodes that failed or were refused, and tests that failed or errored. */
  readonly failures: number;
  readonly warnings: number;
  readonly seconds: number;
}

export interface TransformOptions {
  readonly project: Project;
  readonly warehouse: TransformWarehouse;
  readonly ledger: BuildLedger;
  readonly dialect: SqlDialect;
  readonly target: Target;
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly fullRefresh?: boolean;
  readonly vars?: Readonly<Record<string, unknown>>;
  /** Told of each node and test as it finishes (progress). */
  readonly onNode?: (result: NodeResult) => void;
  readonly onTest?: (result: TestResult) => void;
}

const DEFAULT_STRATEGY: Readonly<Record<string, 'merge' | 'delete+insert'>> = { duckdb: 'delete+insert', bigquery: 'merge' };
const SAMPLE_ROWS = 5;

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** dbt's CTE injection: ephemeral models go first in the query's WITH. */
function withCtes(sql: string, ctes: ReadonlyMap<string, string>): string {
  if (ctes.size === 0) return sql;
  const list = [...ctes].map(([name, body]) => `${name} as (\n${body}\n)`).join(',\n');
  const leadingWith = /^(\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*)with\s/i.exec(sql);
  if (leadingWith) return `${leadingWith[1]}with ${list},\n${sql.slice(leadingWith[0].length)}`;
  return `with ${list}\n${sql}`;
}

export class TransformRun {
  private readonly renderer: Renderer;
  readonly graph: ProjectGraph;
  private readonly relations = new Map<string, Relation>();
  private readonly results = new Map<string, NodeResult>();
  private readonly testResults: TestResult[] = [];
  /** Nodes whose error-severity tests failed: their children are skipped, as dbt build does. */
  private readonly testsFailed = new Set<string>();

  constructor(private readonly options: TransformOptions) {
    this.renderer = new Renderer(options.project, options.target, options.vars ?? {});
    this.graph = buildGraph(options.project, this.renderer);
    for (const node of this.graph.nodes.values()) if (node.config.materialized !== 'ephemeral') this.relations.set(node.id, this.relationOf(node));
  }

  /** The schema and name dbt gives a node: the project's generate_schema_name / generate_alias_name when it has them. */
  private relationOf(node: BuildNode): Relation {
    const custom = typeof node.config.schema === 'string' ? node.config.schema : null;
    const alias = typeof node.config.alias === 'string' ? node.config.alias : null;
    const info = { name: node.name, version: node.version ?? null, resource_type: node.kind, path: node.path, config: node.config };
    const schema = this.renderer.macro('generate_schema_name')
      ? this.renderer.callMacro('generate_schema_name', [custom, info], node.id)
      : custom
        ? `${this.options.target.schema}_${custom}`
        : this.options.target.schema;
    const defaultAlias = node.version === undefined ? node.name : `${node.name}_v${node.version}`;
    const identifier = this.renderer.macro('generate_alias_name') ? this.renderer.callMacro('generate_alias_name', [alias, { ...info, name: defaultAlias }], node.id) : (alias ?? defaultAlias);
    return this.options.dialect.relation(schema, identifier);
  }

  relation(id: string): Relation {
    const relation = this.relations.get(id);
    if (!relation) throw new TransformError(`${id} has no relation of its own (it is ephemeral).`);
    return relation;
  }

  /** A model's SQL as the build runs it (`dbt compile`): for its full build, or an incremental one. */
  compile(id: string, incremental = false): string {
    const node = this.graph.nodes.get(id);
    if (!node || node.kind !== 'model') throw new TransformError(`${id} is no model of the project.`);
    return this.renderNode(node, incremental);
  }

  /** Renders a node's SQL (or a hook of it) for the build, its ephemeral parents injected as CTEs. */
  private renderNode(node: BuildNode, incremental: boolean, sql = node.model?.sql ?? ''): string {
    const ctes = new Map<string, string>();
    const resolver: Resolver = {
      ref: (call: RefCall, from: string) => {
        const id = this.graph.resolveRef(call, from);
        const parent = this.graph.nodes.get(id) as BuildNode;
        if (parent.config.materialized !== 'ephemeral') return this.relation(id).rendered;
        const cte = `__dbt__cte__${parent.version === undefined ? parent.name : `${parent.name}_v${parent.version}`}`;
        if (!ctes.has(cte)) {
          ctes.set(cte, ''); // a placeholder keeps the order: parents' CTEs come before
          const body = this.renderer.render(id, parent.model?.sql ?? '', { resolver }).sql;
          ctes.delete(cte);
          ctes.set(cte, body);
        }
        return cte;
      },
      source: (call: SourceCall) => this.sourceRelation(call),
    };
    const self = this.relations.get(node.id);
    const rendered = this.renderer.render(node.id, sql, { resolver, incremental, ...(self ? { self } : {}) });
    return withCtes(rendered.sql, ctes);
  }

  private sourceRelation(call: SourceCall): string {
    const table = this.graph.sources.get(sourceId(call));
    if (!table) throw new TransformError(`source('${call.source}', '${call.table}') is declared nowhere.`);
    return this.options.dialect.relation(this.renderer.renderText(table.schema, `source ${table.source}`), table.identifier).rendered;
  }

  /** Builds what is selected; returns every outcome. */
  async run(): Promise<TransformSummary> {
    const started = performance.now();
    const selector = new Selector(this.graph);
    const selected = selector.select(this.options.select ?? [], this.options.exclude ?? []);
    const chosen = new Set(selected);
    const tests = this.compileTests(chosen);
    const built = await this.options.ledger.lastSuccessful();
    const schemas = new Set<string>();
    for (const id of selected) {
      const node = this.graph.nodes.get(id) as BuildNode;
      const result = await this.buildOne(node, built, schemas);
      this.results.set(id, result);
      this.options.onNode?.(result);
      await this.runReadyTests(tests, chosen);
    }
    await this.runReadyTests(tests, chosen, true);
    const nodes = [...this.results.values()];
    const failures = nodes.filter((r) => r.outcome === 'error' || r.outcome === 'refused').length + this.testResults.filter((t) => t.outcome === 'fail' || t.outcome === 'error').length;
    const warnings = this.testResults.filter((t) => t.outcome === 'warn').length;
    return { nodes, tests: this.testResults, failures, warnings, seconds: (performance.now() - started) / 1000 };
  }

  private skipReason(node: BuildNode): string | undefined {
    for (const parent of node.parents) {
      const result = this.results.get(parent);
      if (result && result.outcome !== 'success') return `${parent} ${result.outcome === 'skipped' ? 'was skipped' : result.outcome === 'refused' ? 'was refused' : 'failed'}`;
      if (this.testsFailed.has(parent)) return `the data tests of ${parent} failed`;
    }
    return undefined;
  }

  private async buildOne(node: BuildNode, built: ReadonlyMap<string, string>, schemas: Set<string>): Promise<NodeResult> {
    const started = new Date();
    const t0 = performance.now();
    const version = node.version ?? '1';
    const base = { id: node.id, kind: node.kind, name: node.name, version: node.version, materialized: node.kind === 'seed' ? 'seed' : node.config.materialized };
    const finish = async (outcome: NodeOutcome, rows: number | null, sql: string, message?: string): Promise<NodeResult> => {
      const result: NodeResult = { ...base, outcome, rows, seconds: (performance.now() - t0) / 1000, ...(message ? { message } : {}) };
      if (node.config.materialized !== 'ephemeral' || node.kind === 'seed') {
        await this.options.ledger.record({ model: node.name, version, checksum: checksum(sql), startedAt: started, finishedAt: new Date(), rows, outcome, message: message ?? null });
      }
      return result;
    };
    const skipped = this.skipReason(node);
    if (skipped) return finish('skipped', null, '', `skipped: ${skipped}`);
    let fullSql = '';
    try {
      if (node.kind === 'seed') {
        const seed = node.seed;
        if (!seed) throw new TransformError(`${node.id} has no seed file.`);
        const relation = this.relation(node.id);
        await this.ensureSchema(relation, schemas);
        const table = seedStatements(seed.name, seed.csv, relation, this.options.dialect, (node.config.column_types ?? {}) as Record<string, string>);
        fullSql = table.statements.join(';\n');
        for (const statement of table.statements) await this.options.warehouse.execute(statement);
        return finish('success', table.rows, fullSql);
      }
      fullSql = this.renderNode(node, false);
      const key = `${node.name}@${version}`;
      const before = built.get(key);
      if (before !== undefined && before !== checksum(fullSql)) {
        return finish(
          'refused',
          null,
          fullSql,
          `the SQL of ${node.name} v${version} changed since it was last built, and its version did not: a changed model ships as a new version beside the old (add v: ${Number(version) + 1 || `${version}-next`} to its versions in the YAML)`,
        );
      }
      if (node.config.materialized === 'ephemeral') return finish('success', null, fullSql);
      const rows = await this.materialize(node, fullSql, schemas, built.has(key));
      return finish('success', rows, fullSql);
    } catch (error) {
      return finish('error', null, fullSql, error instanceof Error ? error.message : String(error));
    }
  }

  private async ensureSchema(relation: Relation, schemas: Set<string>): Promise<void> {
    if (schemas.has(relation.schema)) return;
    await this.options.warehouse.execute(this.options.dialect.createSchema(relation));
    schemas.add(relation.schema);
  }

  /** Builds a node's relation; `builtBefore`: this version of it was built here before (by this ledger). */
  private async materialize(node: BuildNode, fullSql: string, schemas: Set<string>, builtBefore: boolean): Promise<number | null> {
    const { warehouse, dialect } = this.options;
    const relation = this.relation(node.id);
    await this.ensureSchema(relation, schemas);
    const existing = await warehouse.describe(relation.schema, relation.identifier);
    const materialized = node.config.materialized;
    const fullRefresh = (this.options.fullRefresh ?? false) && node.config.full_refresh !== false;
    // A table is extended only by the version that built it: a new version (which may take the
    // old one's relation, as an alias) starts with a full build.
    const incremental = materialized === 'incremental' && existing?.kind === 'table' && !fullRefresh && builtBefore;
    // dbt's hooks, rendered as the model is (this, is_incremental()), before and after its build.
    const hooks = async (statements: readonly string[] | undefined) => {
      for (const hook of statements ?? []) await warehouse.execute(this.renderNode(node, incremental, hook));
    };
    await hooks(node.config.pre_hook);
    if (materialized === 'view') {
      if (existing?.kind === 'table') await warehouse.execute(dialect.drop(relation, 'table'));
      await warehouse.execute(dialect.createView(relation, fullSql));
      await hooks(node.config.post_hook);
      return null;
    }
    if (existing?.kind === 'view') await warehouse.execute(dialect.drop(relation, 'view'));
    if (!incremental || !existing) {
      await warehouse.execute(dialect.createTable(relation, fullSql));
    } else {
      const sql = this.renderNode(node, true);
      if (node.config.on_schema_change === 'fail') await this.refuseSchemaChange(node, sql, existing.columns);
      const keys = node.config.unique_key === undefined ? [] : Array.isArray(node.config.unique_key) ? node.config.unique_key.map(String) : [String(node.config.unique_key)];
      const strategy = node.config.incremental_strategy ?? DEFAULT_STRATEGY[dialect.type] ?? 'merge';
      for (const statement of dialect.incremental(strategy, relation, sql, keys, existing.columns)) await warehouse.execute(statement);
    }
    await hooks(node.config.post_hook);
    const [count] = await warehouse.query(`select count(*) as n from ${relation.rendered}`);
    return Number(count?.n ?? 0);
  }

  /** on_schema_change: fail — the model's columns must be the table's, as dbt checks. */
  private async refuseSchemaChange(node: BuildNode, sql: string, existing: readonly string[]): Promise<void> {
    const incoming = await this.options.warehouse.columnsOf(sql);
    const relation = this.relation(node.id);
    const added = incoming.filter((c) => !existing.includes(c));
    const removed = existing.filter((c) => !incoming.includes(c));
    if (added.length > 0 || removed.length > 0) {
      throw new TransformError(
        `the columns of ${relation.schema}.${relation.identifier} changed (${[...added.map((c) => `new ${c}`), ...removed.map((c) => `no more ${c}`)].join(', ')}) and on_schema_change is fail: rebuild it with --full-refresh.`,
      );
    }
  }

  // --- data tests -------------------------------------------------------------------------

  private readonly ranTests = new Set<string>();

  /** Every test of a selected node (generic and singular), compiled, with the nodes it reads. */
  private compileTests(chosen: ReadonlySet<string>): CompiledTest[] {
    const out: CompiledTest[] = [];
    const resolveArgument = (text: string, from: string) => {
      const ids: string[] = [];
      const sql = this.renderer.render(from, `{{ ${text} }}`, { resolver: this.recordingResolver(ids) }).sql;
      return { sql, parents: ids };
    };
    for (const node of this.graph.nodes.values()) {
      if (node.config.materialized === 'ephemeral') continue;
      for (const spec of node.tests) {
        if (!spec.config.enabled) continue;
        const name = testName(spec, node.version === undefined ? node.name : `${node.name}_v${node.version}`);
        const compiled = genericTestSql(spec, { renderer: this.renderer, relation: this.relation(node.id), resolveArgument: (text) => resolveArgument(text, `test ${name}`) }, `test ${name}`);
        const parents = [node.id, ...compiled.parents];
        if (parents.some((p) => chosen.has(p))) out.push({ name, attachedTo: node.id, parents, sql: compiled.sql, config: spec.config });
      }
    }
    for (const test of this.options.project.singularTests) {
      const parents: string[] = [];
      const sql = this.renderer.render(`test ${test.name}`, test.sql, { resolver: this.recordingResolver(parents) });
      const config = { ...test.config, ...sql.config };
      const severity = String(config.severity ?? 'error').toLowerCase() === 'warn' ? 'warn' : 'error';
      if (parents.length === 0 || parents.some((p) => chosen.has(p))) {
        out.push({
          name: test.name,
          attachedTo: parents[0] ?? '(project)',
          parents,
          sql: sql.sql,
          config: { severity, error_if: String(config.error_if ?? '!= 0'), warn_if: String(config.warn_if ?? '!= 0'), enabled: config.enabled !== false },
        });
      }
    }
    return out;
  }

  /** A resolver for tests: refs render as relations, and the nodes they name are noted in `parents`. */
  private recordingResolver(parents: string[]): Resolver {
    return {
      ref: (call, where) => {
        const id = this.graph.resolveRef(call, where);
        parents.push(id);
        return this.relation(id).rendered;
      },
      source: (call) => this.sourceRelation(call),
    };
  }

  /** Runs the tests whose parents are all done; at the end, the rest (their parents were not selected). */
  private async runReadyTests(tests: readonly CompiledTest[], chosen: ReadonlySet<string>, last = false): Promise<void> {
    for (const test of tests) {
      if (this.ranTests.has(test.name)) continue;
      const pending = test.parents.filter((p) => chosen.has(p) && !this.results.has(p));
      if (pending.length > 0 && !last) continue;
      this.ranTests.add(test.name);
      const blocked = test.parents.map((p) => this.results.get(p)).find((r) => r && r.outcome !== 'success');
      const result = blocked ? { name: test.name, attachedTo: test.attachedTo, outcome: 'skipped' as const, failures: 0, sample: [], message: `skipped: ${blocked.id} did not build` } : await this.runTest(test);
      this.testResults.push(result);
      if (result.outcome === 'fail' || result.outcome === 'error') this.testsFailed.add(test.attachedTo);
      this.options.onTest?.(result);
    }
  }

  private async runTest(test: CompiledTest): Promise<TestResult> {
    const base = { name: test.name, attachedTo: test.attachedTo };
    try {
      const limit = test.config.limit ? ` limit ${test.config.limit}` : '';
      const [count] = await this.options.warehouse.query(`select count(*) as failures from (\n${test.sql}${limit}\n) dbt_internal_test`);
      const failures = Number(count?.failures ?? 0);
      const outcome = outcomeOf(test.config, failures);
      const sample = failures > 0 ? await this.options.warehouse.query(`select * from (\n${test.sql}\n) dbt_internal_test limit ${SAMPLE_ROWS}`) : [];
      return { ...base, outcome, failures, sample };
    } catch (error) {
      return { ...base, outcome: 'error', failures: 0, sample: [], message: error instanceof Error ? error.message : String(error) };
    }
  }
}

export async function runTransforms(options: TransformOptions): Promise<TransformSummary> {
  return new TransformRun(options).run();
}
