// Rendering a model as dbt does: Jinja (nunjucks, autoescape off) with dbt's context — ref,
// source, config, var, target, this, is_incremental(), adapter.dispatch, return — and the
// project's macros as globals. A first pass (`parse`) records what a model refers to and its
// config(); the build renders it again with the real relation and is_incremental().
import nunjucks from 'nunjucks';
import { TransformError } from './errors.js';
import type { Project, RawConfig } from './project.js';

export type Dialect = 'duckdb' | 'bigquery';

/** A relation as a model's SQL names it: `"schema"."name"` (DuckDB) or `` `project`.`dataset`.`name` `` (BigQuery). */
export interface Relation {
  readonly schema: string;
  readonly identifier: string;
  /** The SQL that names it. */
  readonly rendered: string;
}

export interface Target {
  readonly type: Dialect;
  /** The default schema (dataset), for nodes without a custom one. */
  readonly schema: string;
  /** BigQuery: the project. */
  readonly database?: string;
  readonly name: string;
}

export interface RefCall {
  readonly name: string;
  readonly version: string | undefined;
}

export interface SourceCall {
  readonly source: string;
  readonly table: string;
}

/** What rendering a node told: its SQL, what it refers to, its config() calls. */
export interface Rendered {
  readonly sql: string;
  readonly refs: readonly RefCall[];
  readonly sources: readonly SourceCall[];
  readonly config: RawConfig;
}

/** How names become SQL, per build: what a ref() or source() renders to. */
export interface Resolver {
  ref(call: RefCall, from: string): string;
  source(call: SourceCall, from: string): string;
}

/** dbt's context functions this runner provides; macros of the same names are dbt's business. */
const BUILTINS = new Set(['ref', 'source']);

/** What the runner calls of nunjucks (its published types lack addTest and getExported). */
interface TemplateEngine {
  addGlobal(name: string, value: unknown): void;
  addTest(name: string, test: (value: unknown) => boolean): void;
  renderString(source: string, context: object): string;
}

interface MacroTemplate {
  getExported(callback: (error: Error | null, exported: unknown) => void): void;
}

interface RenderState {
  node: string;
  refs: RefCall[];
  sources: SourceCall[];
  config: RawConfig;
  resolver: Resolver | undefined;
  incremental: boolean;
  self: Relation | undefined;
}

function keywords(args: unknown[]): { positional: unknown[]; named: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && (last as { __keywords?: unknown }).__keywords === true) {
    const { __keywords: _, ...named } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), named };
  }
  return { positional: args, named: {} };
}

/** Generic tests are `{% test name(args) %}` blocks: for nunjucks, macros named test_<name>, as dbt names them. */
function testBlocksAsMacros(source: string): string {
  return source.replace(/\{%(-?)\s*test\s+(\w+)\s*\(/g, '{%$1 macro test_$2(').replace(/\{%(-?)\s*endtest\s*(-?)%\}/g, '{%$1 endmacro $2%}');
}

export class Renderer {
  private readonly env: TemplateEngine;
  private readonly environment: nunjucks.Environment;
  private readonly macros = new Map<string, (...args: unknown[]) => unknown>();
  private state: RenderState | undefined;

  constructor(
    private readonly project: Project,
    readonly target: Target,
    private readonly vars: Readonly<Record<string, unknown>> = {},
  ) {
    this.environment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
    this.env = this.environment as unknown as TemplateEngine;
    this.env.addTest('none', (value: unknown) => value === null || value === undefined);
    this.env.addTest('mapping', (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value));
    this.installContext();
    for (const file of project.macros) this.loadMacros(file.path, testBlocksAsMacros(file.source));
  }

  /** A project macro, or undefined (generate_schema_name, a generic test's test_<name>, …). */
  macro(name: string): ((...args: unknown[]) => unknown) | undefined {
    return this.macros.get(name);
  }

  /** Renders a short text that may hold Jinja (a YAML value such as a source's schema). */
  renderText(text: string, where: string): string {
    if (!text.includes('{{') && !text.includes('{%')) return text;
    return this.render(where, text).sql.trim();
  }

  /** Calls a project macro and returns its text, trimmed. */
  callMacro(name: string, args: unknown[], node = '(macro)'): string {
    const macro = this.macros.get(name);
    if (!macro) throw new TransformError(`There is no macro ${name} in the project.`);
    return this.within({ node, refs: [], sources: [], config: {}, resolver: undefined, incremental: false, self: undefined }, () => String(macro(...args)).trim());
  }

  private loadMacros(path: string, source: string): void {
    let exported: Record<string, unknown> = {};
    try {
      const template = new nunjucks.Template(source, this.environment, path, true) as unknown as MacroTemplate;
      template.getExported((error: Error | null, result: unknown) => {
        if (error) throw error;
        exported = result as Record<string, unknown>;
      });
    } catch (error) {
      throw new TransformError(`The macros of ${path} do not compile: ${(error as Error).message}`);
    }
    for (const [name, macro] of Object.entries(exported)) {
      // A project's own ref() and source() (dbt's `builtins` wrapped) are for dbt: this runner
      // provides them itself, naming relations without a catalog, as such overrides do.
      if (typeof macro !== 'function' || BUILTINS.has(name)) continue;
      if (this.macros.has(name)) throw new TransformError(`The macro ${name} is defined twice (again in ${path}).`);
      this.macros.set(name, macro as (...args: unknown[]) => unknown);
      this.env.addGlobal(name, macro);
    }
  }

  private current(what: string): RenderState {
    if (!this.state) throw new TransformError(`${what} was called outside a model.`);
    return this.state;
  }

  private installContext(): void {
    const env = this.env;
    env.addGlobal('ref', (...args: unknown[]) => {
      const state = this.current('ref()');
      const { positional, named } = keywords(args);
      // ref('model'), ref('package', 'model'), ref('model', v=2) or version=2.
      const name = String(positional.length >= 2 ? positional[1] : positional[0]);
      if (positional.length >= 2 && positional[0] !== this.project.name) throw new TransformError(`${state.node}: ref() to the package ${String(positional[0])}: this project uses no packages.`);
      const v = named.v ?? named.version;
      const call = { name, version: v === undefined || v === null ? undefined : String(v) };
      state.refs.push(call);
      return state.resolver ? state.resolver.ref(call, state.node) : `__ref__${name}`;
    });
    env.addGlobal('source', (sourceName: unknown, table: unknown) => {
      const state = this.current('source()');
      const call = { source: String(sourceName), table: String(table) };
      state.sources.push(call);
      return state.resolver ? state.resolver.source(call, state.node) : `__source__${call.source}__${call.table}`;
    });
    env.addGlobal('config', (...args: unknown[]) => {
      const state = this.current('config()');
      Object.assign(state.config, keywords(args).named);
      return '';
    });
    env.addGlobal('var', (name: unknown, fallback?: unknown) => {
      const key = String(name);
      if (key in this.vars) return this.vars[key];
      if (key in this.project.vars) return this.project.vars[key];
      if (fallback !== undefined) return fallback;
      throw new TransformError(`${this.state?.node ?? 'A model'} needs the var ${key}, which is set nowhere: give it in dbt_project.yml (vars:) or with --vars.`);
    });
    env.addGlobal('env_var', (name: unknown, fallback?: unknown) => process.env[String(name)] ?? fallback ?? '');
    env.addGlobal('is_incremental', () => this.state?.incremental ?? false);
    env.addGlobal('return', (value: unknown) => value);
    env.addGlobal('log', () => '');
    env.addGlobal('exceptions', {
      raise_compiler_error: (message: unknown) => {
        throw new TransformError(`${this.state?.node ?? 'A macro'}: ${String(message)}`);
      },
    });
    env.addGlobal('adapter', {
      dispatch: (name: unknown) => {
        const macroName = String(name);
        const chosen = this.macros.get(`${this.target.type}__${macroName}`) ?? this.macros.get(`default__${macroName}`);
        if (!chosen) throw new TransformError(`adapter.dispatch('${macroName}') finds neither ${this.target.type}__${macroName} nor default__${macroName}.`);
        return chosen;
      },
    });
    env.addGlobal('target', this.target);
    // `this` is the relation being built; an object whose text is its SQL name, as dbt's is.
    const self = (): Relation => {
      const state = this.current('this');
      if (!state.self) return { schema: '', identifier: state.node, rendered: `__this__${state.node}` };
      return state.self;
    };
    env.addGlobal('this', {
      toString: () => self().rendered,
      get schema() {
        return self().schema;
      },
      get identifier() {
        return self().identifier;
      },
      get name() {
        return self().identifier;
      },
    });
  }

  private within<T>(state: RenderState, work: () => T): T {
    const previous = this.state;
    this.state = state;
    try {
      return work();
    } finally {
      this.state = previous;
    }
  }

  /**
   * Renders a node's SQL. Without a resolver (the parse pass), refs and sources render as
   * placeholders and is_incremental() is false: only what it calls is of interest.
   */
  render(node: string, sql: string, options: { resolver?: Resolver; incremental?: boolean; self?: Relation } = {}): Rendered {
    const state: RenderState = { node, refs: [], sources: [], config: {}, resolver: options.resolver, incremental: options.incremental ?? false, self: options.self };
    const text = this.within(state, () => {
      try {
        return this.env.renderString(sql, {});
      } catch (error) {
        if (error instanceof TransformError) throw error;
        const cause = (error as { cause?: unknown }).cause;
        if (cause instanceof TransformError) throw cause;
        throw new TransformError(`${node} does not render: ${(error as Error).message.replace(/^\(unknown path\)\s*/, '')}`);
      }
    });
    return { sql: text, refs: state.refs, sources: state.sources, config: state.config };
  }
}
