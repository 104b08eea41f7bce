// The dbt project in sql/, read as dbt reads it: dbt_project.yml, models (with their versions),
// the YAML property files (descriptions, columns, data tests, configs), sources, seeds, macros and
// singular tests. Parsed once at the edge with zod; the runner sees typed values only.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TransformError } from './errors.js';

export type Materialization = 'view' | 'table' | 'incremental' | 'ephemeral';
export type IncrementalStrategy = 'merge' | 'delete+insert' | 'append';

/** A node's configuration once dbt_project.yml, the property files and config() are merged. */
export interface NodeConfig {
  readonly materialized: Materialization;
  readonly schema?: string;
  readonly alias?: string;
  readonly unique_key?: string | readonly string[];
  readonly incremental_strategy?: IncrementalStrategy;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  readonly full_refresh?: boolean;
  readonly column_types?: Readonly<Record<string, string>>;
  /** Statements run before and after the node's build (dbt's hooks, every level's). */
  readonly pre_hook?: readonly string[];
  readonly post_hook?: readonly string[];
  readonly [other: string]: unknown;
}

export type RawConfig = Record<string, unknown>;

export interface ColumnSpec {
  readonly name: string;
  readonly description: string;
}

/** A generic data test attached to a model, seed or source (column or whole). */
export interface GenericTestSpec {
  /** unique, not_null, accepted_values, relationships, or a test of sql/tests/generic. */
  readonly test: string;
  readonly column: string | undefined;
  readonly args: Readonly<Record<string, unknown>>;
  readonly config: TestConfig;
}

export interface TestConfig {
  readonly severity: 'error' | 'warn';
  readonly where?: string;
  readonly limit?: number;
  readonly error_if: string;
  readonly warn_if: string;
  readonly enabled: boolean;
}

export interface ModelNode {
  readonly kind: 'model';
  /** The model's name as ref() names it. */
  readonly name: string;
  /** Its version, when the model has versions. */
  readonly version: string | undefined;
  readonly isLatest: boolean;
  /** The file, relative to the project. */
  readonly path: string;
  readonly sql: string;
  /** Configs from dbt_project.yml and the property files; config() in the file comes on top. */
  readonly config: RawConfig;
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
  readonly tests: readonly GenericTestSpec[];
}

export interface SeedNode {
  readonly kind: 'seed';
  readonly name: string;
  readonly path: string;
  readonly csv: string;
  readonly config: RawConfig;
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
  readonly tests: readonly GenericTestSpec[];
}

export interface SourceTable {
  readonly source: string;
  readonly name: string;
  readonly schema: string;
  readonly identifier: string;
  readonly description: string;
  readonly tests: readonly GenericTestSpec[];
}

export interface SingularTest {
  readonly name: string;
  readonly path: string;
  readonly sql: string;
  readonly config: RawConfig;
}

export interface MacroFile {
  readonly path: string;
  readonly source: string;
}

export interface Project {
  readonly name: string;
  readonly root: string;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly models: readonly ModelNode[];
  readonly seeds: readonly SeedNode[];
  readonly sources: readonly SourceTable[];
  readonly macros: readonly MacroFile[];
  readonly singularTests: readonly SingularTest[];
}

const ProjectFileSchema = z.looseObject({
  name: z.string(),
  'model-paths': z.array(z.string()).optional(),
  'seed-paths': z.array(z.string()).optional(),
  'test-paths': z.array(z.string()).optional(),
  'macro-paths': z.array(z.string()).optional(),
  models: z.record(z.string(), z.unknown()).optional(),
  seeds: z.record(z.string(), z.unknown()).optional(),
  data_tests: z.record(z.string(), z.unknown()).optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
});

const TestEntrySchema = z.union([z.string(), z.record(z.string(), z.unknown())]);

const ColumnSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  data_tests: z.array(TestEntrySchema).optional(),
  tests: z.array(TestEntrySchema).optional(),
});

const VersionSchema = z.looseObject({
  v: z.union([z.number(), z.string()]),
  defined_in: z.string().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  columns: z.array(z.unknown()).optional(),
});

const ModelPropertiesSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  columns: z.array(ColumnSchema).optional(),
  data_tests: z.array(TestEntrySchema).optional(),
  tests: z.array(TestEntrySchema).optional(),
  versions: z.array(VersionSchema).optional(),
  latest_version: z.union([z.number(), z.string()]).optional(),
});

const SourceSchema = z.looseObject({
  name: z.string(),
  schema: z.string().optional(),
  description: z.string().optional(),
  tables: z.array(
    z.looseObject({
      name: z.string(),
      identifier: z.string().optional(),
      description: z.string().optional(),
      columns: z.array(ColumnSchema).optional(),
      data_tests: z.array(TestEntrySchema).optional(),
      tests: z.array(TestEntrySchema).optional(),
    }),
  ),
});

const PropertyFileSchema = z.looseObject({
  models: z.array(ModelPropertiesSchema).optional(),
  seeds: z.array(ModelPropertiesSchema).optional(),
  sources: z.array(SourceSchema).optional(),
});

type ModelProperties = z.infer<typeof ModelPropertiesSchema>;

function parseFile<T>(schema: z.ZodType<T>, text: string, path: string): T {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new TransformError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TransformError(`${path} is not a dbt file this runner reads: ${issue ? `${issue.path.join('.') || 'the file'}: ${issue.message}` : 'unknown problem'}.`);
  }
  return parsed.data;
}

/** Every file under `dir` ending in one of `extensions`, depth first, in name order. */
function filesUnder(dir: string, extensions: readonly string[]): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return filesUnder(path, extensions);
    return extensions.includes(extname(entry)) ? [path] : [];
  });
}

const TEST_CONFIG_KEYS = new Set(['severity', 'where', 'limit', 'error_if', 'warn_if', 'enabled', 'tags', 'store_failures', 'meta']);

/**
 * One entry of `data_tests:` as dbt reads it: a name (`not_null`), or `{name: {arguments…,
 * config…}}` where the arguments are under `arguments:` (dbt ≥ 1.10.6) or beside the config keys.
 */
function testSpec(entry: z.infer<typeof TestEntrySchema>, column: string | undefined, inherited: RawConfig, where: string): GenericTestSpec {
  if (typeof entry === 'string') return { test: entry, column, args: {}, config: testConfig(inherited, {}) };
  const [name, ...more] = Object.keys(entry);
  if (!name || more.length > 0) throw new TransformError(`${where}: a data test is one name, or {name: {arguments}}; found ${JSON.stringify(entry)}.`);
  const body = (entry[name] ?? {}) as Record<string, unknown>;
  const config = { ...(typeof body.config === 'object' && body.config ? (body.config as RawConfig) : {}) };
  const args: Record<string, unknown> = typeof body.arguments === 'object' && body.arguments ? { ...(body.arguments as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'config' || key === 'arguments' || key === 'name') continue;
    if (TEST_CONFIG_KEYS.has(key)) config[key] = value;
    else args[key] = value;
  }
  return { test: name, column, args, config: testConfig(inherited, config) };
}

function testConfig(inherited: RawConfig, own: RawConfig): TestConfig {
  const merged = { ...inherited, ...own };
  const severity = String(merged.severity ?? 'error').toLowerCase();
  if (severity !== 'error' && severity !== 'warn') throw new TransformError(`A data test's severity is error or warn, not ${severity}.`);
  return {
    severity,
    ...(typeof merged.where === 'string' ? { where: merged.where } : {}),
    ...(typeof merged.limit === 'number' ? { limit: merged.limit } : {}),
    error_if: String(merged.error_if ?? '!= 0'),
    warn_if: String(merged.warn_if ?? '!= 0'),
    enabled: merged.enabled !== false,
  };
}

function testsOf(properties: { data_tests?: z.infer<typeof TestEntrySchema>[] | undefined; tests?: z.infer<typeof TestEntrySchema>[] | undefined; columns?: z.infer<typeof ColumnSchema>[] | undefined }, inherited: RawConfig, where: string): GenericTestSpec[] {
  const own = [...(properties.data_tests ?? []), ...(properties.tests ?? [])].map((entry) => testSpec(entry, undefined, inherited, where));
  const columns = (properties.columns ?? []).flatMap((column) => [...(column.data_tests ?? []), ...(column.tests ?? [])].map((entry) => testSpec(entry, column.name, inherited, `${where}, column ${column.name}`)));
  return [...own, ...columns];
}

const HOOKS: Readonly<Record<string, 'pre_hook' | 'post_hook'>> = { 'pre-hook': 'pre_hook', pre_hook: 'pre_hook', 'post-hook': 'post_hook', post_hook: 'post_hook' };

/** A hook config as dbt takes it (a statement, a list of them, or `{sql: …}` entries), as a list of statements. */
function hookStatements(value: unknown, key: string): string[] {
  const entries = Array.isArray(value) ? value : [value];
  return entries.map((entry) => {
    if (typeof entry === 'string') return entry;
    if (entry && typeof entry === 'object' && typeof (entry as { sql?: unknown }).sql === 'string') return (entry as { sql: string }).sql;
    throw new TransformError(`${key}: give a SQL statement or a list of them, not ${JSON.stringify(entry)}.`);
  });
}

/**
 * Configs of several levels, the later (more specific) winning, except hooks: as in dbt, the
 * pre_hook and post_hook of every level all run, the outer level's first.
 */
export function mergeConfigs(...levels: readonly RawConfig[]): RawConfig {
  const out: RawConfig = {};
  for (const level of levels) {
    for (const [key, value] of Object.entries(level)) {
      const hook = HOOKS[key];
      if (hook) out[hook] = [...((out[hook] as string[] | undefined) ?? []), ...hookStatements(value, key)];
      else out[key] = value;
    }
  }
  return out;
}

/**
 * The configs dbt_project.yml gives a node at `path` (folders, then the node's name): nested
 * keys are folders, `+key` (or a key that is no folder) a config; the deeper wins.
 */
export function projectConfig(tree: unknown, path: readonly string[]): RawConfig {
  let out: RawConfig = {};
  let level: unknown = tree;
  for (let depth = 0; ; depth++) {
    if (!level || typeof level !== 'object') break;
    const nested = path[depth];
    for (const [key, value] of Object.entries(level as Record<string, unknown>)) {
      if (key.startsWith('+')) out = mergeConfigs(out, { [key.slice(1)]: value });
      else if (key !== nested && !(value && typeof value === 'object' && !Array.isArray(value))) out = mergeConfigs(out, { [key]: value });
    }
    if (nested === undefined) break;
    level = (level as Record<string, unknown>)[nested];
  }
  return out;
}

function columnsOf(properties: { columns?: z.infer<typeof ColumnSchema>[] | undefined } | undefined): ColumnSpec[] {
  return (properties?.columns ?? []).map((c) => ({ name: c.name, description: c.description ?? '' }));
}

/** Reads the dbt project at `root`. */
export function readProject(root: string): Project {
  const projectPath = join(root, 'dbt_project.yml');
  let text: string;
  try {
    text = readFileSync(projectPath, 'utf8');
  } catch {
    throw new TransformError(`There is no dbt project at ${root}: ${projectPath} is missing.`);
  }
  const file = parseFile(ProjectFileSchema, text, projectPath);
  const dirs = (key: 'model-paths' | 'seed-paths' | 'test-paths' | 'macro-paths', fallback: string) => (file[key] ?? [fallback]).map((d) => join(root, d));
  const rel = (path: string) => relative(root, path).split(sep).join('/');

  // Property files: models, seeds and sources, by name.
  const modelProperties = new Map<string, ModelProperties>();
  const seedProperties = new Map<string, ModelProperties>();
  const sources: SourceTable[] = [];
  for (const path of [...dirs('model-paths', 'models'), ...dirs('seed-paths', 'seeds')].flatMap((d) => filesUnder(d, ['.yml', '.yaml']))) {
    const properties = parseFile(PropertyFileSchema, readFileSync(path, 'utf8'), rel(path));
    for (const model of properties.models ?? []) {
      if (modelProperties.has(model.name)) throw new TransformError(`The model ${model.name} is described twice (again in ${rel(path)}).`);
      modelProperties.set(model.name, model);
    }
    for (const seed of properties.seeds ?? []) seedProperties.set(seed.name, seed);
    for (const source of properties.sources ?? []) {
      for (const table of source.tables) {
        sources.push({
          source: source.name,
          name: table.name,
          schema: source.schema ?? source.name,
          identifier: table.identifier ?? table.name,
          description: table.description ?? '',
          tests: testsOf(table, {}, `source ${source.name}.${table.name}`),
        });
      }
    }
  }

  const models: ModelNode[] = [];
  const modelFiles = new Map<string, string>();
  for (const dir of dirs('model-paths', 'models')) {
    for (const path of filesUnder(dir, ['.sql'])) {
      const name = basename(path, '.sql');
      if (modelFiles.has(name)) throw new TransformError(`Two models are named ${name}: ${rel(modelFiles.get(name) as string)} and ${rel(path)}.`);
      modelFiles.set(name, path);
    }
  }
  const folders = (path: string, dir: string) => relative(dir, path).split(sep).slice(0, -1);
  const modelDir = (path: string) => dirs('model-paths', 'models').find((d) => path.startsWith(d)) as string;
  const claimed = new Set<string>();
  for (const [name, properties] of modelProperties) {
    if (!properties.versions) continue;
    const versions = properties.versions.map((v) => String(v.v));
    const latest = String(properties.latest_version ?? versions.slice().sort(compareVersions).at(-1));
    for (const version of properties.versions) {
      const v = String(version.v);
      const fileName = version.defined_in ?? `${name}_v${v}`;
      const path = modelFiles.get(fileName);
      if (!path) throw new TransformError(`Version ${v} of the model ${name} has no file ${fileName}.sql (set defined_in to the file that holds it).`);
      claimed.add(fileName);
      // dbt's path of a version: its folders, the model's name, then v<version>.
      const inherited = mergeConfigs(projectConfig(file.models, [file.name, ...folders(path, modelDir(path)), name, `v${v}`]), properties.config ?? {}, version.config ?? {});
      models.push({
        kind: 'model',
        name,
        version: v,
        isLatest: v === latest,
        path: rel(path),
        sql: readFileSync(path, 'utf8'),
        config: inherited,
        description: properties.description ?? '',
        columns: columnsOf(properties),
        tests: testsOf(properties, configForTests(file.data_tests), `model ${name} v${v}`),
      });
    }
  }
  for (const [fileName, path] of modelFiles) {
    if (claimed.has(fileName)) continue;
    const properties = modelProperties.get(fileName);
    models.push({
      kind: 'model',
      name: fileName,
      version: undefined,
      isLatest: true,
      path: rel(path),
      sql: readFileSync(path, 'utf8'),
      config: mergeConfigs(projectConfig(file.models, [file.name, ...folders(path, modelDir(path)), fileName]), properties?.config ?? {}),
      description: properties?.description ?? '',
      columns: columnsOf(properties),
      tests: properties ? testsOf(properties, configForTests(file.data_tests), `model ${fileName}`) : [],
    });
  }
  for (const name of modelProperties.keys()) {
    if (!models.some((m) => m.name === name)) throw new TransformError(`The property files describe a model ${name} that has no .sql file.`);
  }

  const seeds: SeedNode[] = dirs('seed-paths', 'seeds').flatMap((dir) =>
    filesUnder(dir, ['.csv']).map((path) => {
      const name = basename(path, '.csv');
      const properties = seedProperties.get(name);
      return {
        kind: 'seed' as const,
        name,
        path: rel(path),
        csv: readFileSync(path, 'utf8'),
        config: mergeConfigs(projectConfig(file.seeds, [file.name, ...folders(path, dir), name]), properties?.config ?? {}),
        description: properties?.description ?? '',
        columns: columnsOf(properties),
        tests: properties ? testsOf(properties, configForTests(file.data_tests), `seed ${name}`) : [],
      };
    }),
  );

  const macros: MacroFile[] = [...dirs('macro-paths', 'macros'), ...dirs('test-paths', 'tests').map((d) => join(d, 'generic'))].flatMap((dir) =>
    filesUnder(dir, ['.sql']).map((path) => ({ path: rel(path), source: readFileSync(path, 'utf8') })),
  );
  const singularTests: SingularTest[] = dirs('test-paths', 'tests').flatMap((dir) =>
    filesUnder(dir, ['.sql'])
      .filter((path) => !rel(path).includes('/generic/'))
      .map((path) => ({ name: basename(path, '.sql'), path: rel(path), sql: readFileSync(path, 'utf8'), config: configForTests(file.data_tests) })),
  );
  return { name: file.name, root, vars: file.vars ?? {}, models, seeds, sources, macros, singularTests };
}

/** The project-wide `data_tests:` configs of dbt_project.yml (`+severity` and the like). */
function configForTests(tree: Record<string, unknown> | undefined): RawConfig {
  return projectConfig(tree, []);
}

/** Versions ordered as dbt orders them: numerically when both are numbers. */
export function compareVersions(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) ? x - y : a.localeCompare(b);
}
