// Node selection as dbt spells it: `m`, `+m` (with its ancestors), `m+` (with its descendants),
// `2+m`, `m+1` (that many generations), `@m` (m, its descendants and their ancestors), methods
// `tag:`, `path:`, `config.materialized:`, `source:`, `resource_type:`, `version:`; a space (or a
// second --select) is a union, a comma an intersection; --exclude takes the same syntax.
import { TransformError } from './errors.js';
import { childrenOf, type ProjectGraph } from './graph.js';

interface Criterion {
  readonly parents: number;
  readonly children: number;
  readonly at: boolean;
  readonly method: string;
  readonly value: string;
}

const CRITERION = /^(@)?(?:(\d*)\+)?(.+?)(?:\+(\d*))?$/;

function parseCriterion(text: string): Criterion {
  const match = CRITERION.exec(text);
  if (!match || !match[3]) throw new TransformError(`--select ${text}: not a selector dbt knows (such as stg_stripe__charges, +name, name+, tag:x, path:models/staging).`);
  const [, at, up, body, down] = match as unknown as [string, string | undefined, string | undefined, string, string | undefined];
  // `+` alone: every generation; `2+`: two; no `+`: none.
  const generations = (n: string | undefined) => (n === undefined ? 0 : n ? Number(n) : Infinity);
  const colon = body.indexOf(':');
  const method = colon < 0 ? 'name' : body.slice(0, colon);
  const value = colon < 0 ? body : body.slice(colon + 1);
  if (at && (up !== undefined || down !== undefined)) throw new TransformError(`--select ${text}: @ goes alone, not with +.`);
  return { parents: generations(up), children: generations(down), at: Boolean(at), method, value };
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export class Selector {
  private readonly children: Map<string, Set<string>>;

  constructor(private readonly graph: ProjectGraph) {
    this.children = childrenOf(graph);
  }

  /** The node ids matching one method:value, sources included (their children are what `+` reaches). */
  private matching(method: string, value: string): Set<string> {
    const out = new Set<string>();
    const nodes = [...this.graph.nodes.values()];
    switch (method) {
      case 'name': {
        // `name`, `name.v2`, a glob; a versioned model's name selects all its versions.
        const [base, version] = /^(.*)\.v([^.]+)$/.exec(value)?.slice(1) ?? [value, undefined];
        const pattern = glob(base as string);
        for (const node of nodes) if (pattern.test(node.name) && (version === undefined || node.version === version)) out.add(node.id);
        break;
      }
      case 'tag':
        for (const node of nodes) if (node.config.tags.includes(value)) out.add(node.id);
        break;
      case 'path': {
        const prefix = value.replace(/\/+$/, '');
        for (const node of nodes) if (node.path === prefix || node.path.startsWith(`${prefix}/`) || glob(prefix).test(node.path)) out.add(node.id);
        break;
      }
      case 'config.materialized':
        for (const node of nodes) if (node.config.materialized === value) out.add(node.id);
        break;
      case 'resource_type':
        for (const node of nodes) if (node.kind === value) out.add(node.id);
        break;
      case 'version':
        for (const node of nodes) {
          const latest = node.model?.isLatest ?? false;
          if ((value === 'latest' && latest && node.version !== undefined) || (value === 'old' && !latest) || node.version === value) out.add(node.id);
        }
        break;
      case 'source': {
        const pattern = glob(value.includes('.') ? value : `${value}.*`);
        for (const id of this.graph.sources.keys()) if (pattern.test(id.slice('source.'.length))) out.add(id);
        break;
      }
      default:
        throw new TransformError(`--select ${method}:${value}: the method ${method} is not one this runner knows (tag, path, config.materialized, resource_type, version, source).`);
    }
    return out;
  }

  private walk(start: Iterable<string>, next: (id: string) => Iterable<string>, generations: number): Set<string> {
    const out = new Set<string>();
    let frontier = [...start];
    for (let depth = 0; depth < generations && frontier.length > 0; depth++) {
      const following: string[] = [];
      for (const id of frontier) {
        for (const other of next(id)) {
          if (out.has(other)) continue;
          out.add(other);
          following.push(other);
        }
      }
      frontier = following;
    }
    return out;
  }

  private parentsOf = (id: string): Iterable<string> => {
    const node = this.graph.nodes.get(id);
    return node ? [...node.parents, ...node.sources] : [];
  };

  private childrenOfNode = (id: string): Iterable<string> => this.children.get(id) ?? [];

  private criterion(text: string): Set<string> {
    const c = parseCriterion(text);
    const matched = this.matching(c.method, c.value);
    const out = new Set(matched);
    if (c.at) {
      const descendants = this.walk(matched, this.childrenOfNode, Infinity);
      for (const id of descendants) out.add(id);
      for (const id of this.walk([...matched, ...descendants], this.parentsOf, Infinity)) out.add(id);
    }
    for (const id of this.walk(matched, this.parentsOf, c.parents)) out.add(id);
    for (const id of this.walk(matched, this.childrenOfNode, c.children)) out.add(id);
    if (matched.size === 0) throw new TransformError(`--select ${text} matches nothing in the project.`);
    return out;
  }

  /** A selector expression: space-separated union of comma-separated intersections. */
  expression(text: string): Set<string> {
    const out = new Set<string>();
    for (const union of text.trim().split(/\s+/).filter(Boolean)) {
      const parts = union.split(',').map((part) => this.criterion(part));
      const [first, ...rest] = parts as [Set<string>, ...Set<string>[]];
      for (const id of first) if (rest.every((set) => set.has(id))) out.add(id);
    }
    return out;
  }

  /** What --select (all nodes when none) and --exclude leave, in build order, sources left out. */
  select(selects: readonly string[], excludes: readonly string[]): string[] {
    const chosen = selects.length === 0 ? new Set(this.graph.nodes.keys()) : new Set(selects.flatMap((s) => [...this.expression(s)]));
    const excluded = new Set(excludes.flatMap((s) => [...this.expression(s)]));
    return this.graph.order.filter((id) => chosen.has(id) && !excluded.has(id));
  }
}
