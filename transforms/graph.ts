// The project as a graph: seeds and models (one node per model version), with the sources they
// read and the nodes they ref(); built from what each model's rendering called. Unknown refs and
// cycles are refused, naming them. Nodes come out in dependency order.
import { TransformError } from './errors.js';
import { compareVersions, mergeConfigs, type GenericTestSpec, type Materialization, type ModelNode, type NodeConfig, type Project, type RawConfig, type SeedNode, type SourceTable } from './project.js';
import type { RefCall, Renderer, SourceCall } from './render.js';

export interface BuildNode {
  /** `model.<name>` or `model.<name>.v<version>`, `seed.<name>`. */
  readonly id: string;
  readonly kind: 'model' | 'seed';
  readonly name: string;
  readonly version: string | undefined;
  readonly path: string;
  readonly config: NodeConfig;
  readonly model?: ModelNode;
  readonly seed?: SeedNode;
  readonly tests: readonly GenericTestSpec[];
  /** Node ids it refs. */
  readonly parents: ReadonlySet<string>;
  /** Sources it reads, as `source.<source>.<table>`. */
  readonly sources: ReadonlySet<string>;
}

export interface ProjectGraph {
  readonly nodes: ReadonlyMap<string, BuildNode>;
  readonly sources: ReadonlyMap<string, SourceTable>;
  /** Every node, parents before children. */
  readonly order: readonly string[];
  /** The node a ref() resolves to. */
  resolveRef(call: RefCall, from: string): string;
}

export function modelId(name: string, version: string | undefined): string {
  return version === undefined ? `model.${name}` : `model.${name}.v${version}`;
}

export function sourceId(call: SourceCall | SourceTable): string {
  return 'table' in call ? `source.${call.source}.${call.table}` : `source.${call.source}.${call.name}`;
}

const MATERIALIZATIONS = new Set<Materialization>(['view', 'table', 'incremental', 'ephemeral']);

function nodeConfig(raw: RawConfig, where: string, fallback: Materialization): NodeConfig {
  const materialized = (raw.materialized ?? fallback) as Materialization;
  if (!MATERIALIZATIONS.has(materialized)) throw new TransformError(`${where}: materialized must be view, table, incremental or ephemeral, not ${String(materialized)}.`);
  const strategy = raw.incremental_strategy;
  if (strategy !== undefined && strategy !== 'merge' && strategy !== 'delete+insert' && strategy !== 'append') {
    throw new TransformError(`${where}: incremental_strategy must be merge, delete+insert or append, not ${String(strategy)}.`);
  }
  const onSchemaChange = raw.on_schema_change ?? 'ignore';
  if (onSchemaChange !== 'ignore' && onSchemaChange !== 'fail') {
    throw new TransformError(`${where}: on_schema_change ${String(onSchemaChange)} is not one this runner does (ignore, the default, or fail); dbt itself does append_new_columns and sync_all_columns.`);
  }
  const tags = raw.tags === undefined ? [] : Array.isArray(raw.tags) ? raw.tags.map(String) : [String(raw.tags)];
  return { ...raw, materialized, tags, enabled: raw.enabled !== false } as NodeConfig;
}

/** Renders every model once to learn its refs, sources and config(), and builds the graph. */
export function buildGraph(project: Project, renderer: Renderer): ProjectGraph {
  const nodes = new Map<string, BuildNode>();
  const sources = new Map(project.sources.map((s) => [sourceId(s), s]));
  const seedsByName = new Map(project.seeds.map((s) => [s.name, s]));
  const versionsOf = new Map<string, ModelNode[]>();
  for (const model of project.models) versionsOf.set(model.name, [...(versionsOf.get(model.name) ?? []), model]);

  const resolveRef = (call: RefCall, from: string): string => {
    const versions = versionsOf.get(call.name);
    if (versions) {
      if (call.version === undefined) {
        const latest = versions.find((m) => m.isLatest) ?? (versions[0] as ModelNode);
        return modelId(latest.name, latest.version);
      }
      const chosen = versions.find((m) => m.version === call.version);
      if (!chosen) throw new TransformError(`${from} refers to version ${call.version} of ${call.name}, which has versions ${versions.map((m) => m.version ?? '(none)').join(', ')}.`);
      return modelId(chosen.name, chosen.version);
    }
    if (seedsByName.has(call.name) && call.version === undefined) return `seed.${call.name}`;
    const known = [...versionsOf.keys(), ...seedsByName.keys()];
    throw new TransformError(`${from} refers to ${call.name}, which is no model or seed of the project (${known.length} of them: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''}).`);
  };

  for (const seed of project.seeds) {
    nodes.set(`seed.${seed.name}`, { id: `seed.${seed.name}`, kind: 'seed', name: seed.name, version: undefined, path: seed.path, config: nodeConfig(seed.config, `seed ${seed.name}`, 'table'), seed, tests: seed.tests, parents: new Set(), sources: new Set() });
  }
  const parsed = project.models.map((model) => {
    const id = modelId(model.name, model.version);
    const where = model.version === undefined ? `model ${model.name}` : `model ${model.name} v${model.version}`;
    return { model, id, where, rendered: renderer.render(id, model.sql) };
  });
  for (const { model, id, where, rendered } of parsed) {
    const parents = new Set(rendered.refs.map((call) => resolveRef(call, where)));
    const read = new Set(
      rendered.sources.map((call) => {
        const key = sourceId(call);
        if (!sources.has(key)) throw new TransformError(`${where} reads source('${call.source}', '${call.table}'), which no property file declares.`);
        return key;
      }),
    );
    const config = nodeConfig(mergeConfigs(model.config, rendered.config), where, 'view');
    if (!config.enabled) continue;
    nodes.set(id, { id, kind: 'model', name: model.name, version: model.version, path: model.path, config, model, tests: model.tests, parents, sources: read });
  }
  for (const node of nodes.values()) {
    for (const parent of node.parents) {
      if (!nodes.has(parent)) throw new TransformError(`${node.id} refers to ${parent}, which is disabled.`);
    }
  }
  return { nodes, sources, order: dependencyOrder(nodes), resolveRef };
}

/** Parents before children; a cycle is refused, naming its nodes in order. */
function dependencyOrder(nodes: ReadonlyMap<string, BuildNode>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = [...path.slice(path.indexOf(id)), id];
      throw new TransformError(`The models refer to each other in a cycle: ${cycle.join(' → ')}. Break it: a model cannot depend on itself.`);
    }
    state.set(id, 'visiting');
    const node = nodes.get(id) as BuildNode;
    for (const parent of [...node.parents].sort()) visit(parent, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  // Seeds first, as dbt builds them, then models by name: a stable order for the same project.
  const roots = [...nodes.keys()].sort((a, b) => Number(b.startsWith('seed.')) - Number(a.startsWith('seed.')) || a.localeCompare(b));
  for (const id of roots) visit(id, []);
  return order;
}

/** The children of each node (the reverse of parents), sources included. */
export function childrenOf(graph: ProjectGraph): Map<string, Set<string>> {
  const children = new Map<string, Set<string>>();
  const add = (parent: string, child: string) => {
    const set = children.get(parent) ?? new Set<string>();
    set.add(child);
    children.set(parent, set);
  };
  for (const node of graph.nodes.values()) {
    for (const parent of node.parents) add(parent, node.id);
    for (const source of node.sources) add(source, node.id);
  }
  return children;
}

/** Versions of one model, in order, for messages. */
export function versionsOf(graph: ProjectGraph, name: string): string[] {
  return [...graph.nodes.values()].filter((n) => n.name === name && n.version !== undefined).map((n) => n.version as string).sort(compareVersions);
}
