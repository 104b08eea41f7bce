// Real dbt as the tests run it: the dbt of .venv (make dbt-venv) on the project in sql/, against
// a DuckDB file, with its artifacts (run_results.json, manifest.json) in a folder of the test's.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DBT = resolve('.venv/bin/dbt');
const PROJECT = resolve('sql');
const PROFILES = resolve('test/transforms');

/** Throws, saying how to install it, when the venv has no dbt: CI always has it, and a test that needs dbt fails rather than skip. */
export function assertDbtInstalled(): void {
  if (!existsSync(DBT)) {
    throw new Error(`dbt is not installed: ${DBT} does not exist. Run \`make dbt-venv\` (the step of .ci/run that installs sql/requirements.txt into .venv).`);
  }
}

export interface DbtRun {
  readonly code: number | null;
  readonly output: string;
}

/** Runs `dbt COMMAND ARGS` on sql/ against the DuckDB file `warehouse`, writing artifacts and logs under `workDir`. */
export async function runDbt(command: string, args: readonly string[], options: { warehouse: string; workDir: string }): Promise<DbtRun> {
  const child = spawn(
    DBT,
    [command, ...args, '--project-dir', PROJECT, '--profiles-dir', PROFILES, '--target-path', join(options.workDir, 'target'), '--log-path', join(options.workDir, 'logs')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STRIPE_ELT_DBT_DUCKDB_PATH: options.warehouse, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false', DBT_USE_COLORS: 'false' },
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

/** One node's result in run_results.json (build, run, test, seed) or sources.json (source freshness). */
export interface NodeResult {
  readonly unique_id: string;
  readonly status: string;
  readonly failures: number | null;
  readonly message: string | null;
}

export function runResults(workDir: string): NodeResult[] {
  return (JSON.parse(readFileSync(join(workDir, 'target', 'run_results.json'), 'utf8')) as { results: NodeResult[] }).results;
}

export function freshnessResults(workDir: string): NodeResult[] {
  return (JSON.parse(readFileSync(join(workDir, 'target', 'sources.json'), 'utf8')) as { results: NodeResult[] }).results;
}

/** The unique ids of the project's nodes of `resourceType` (model, seed, test) in manifest.json. */
export function manifestIds(workDir: string, resourceType: string): string[] {
  const manifest = JSON.parse(readFileSync(join(workDir, 'target', 'manifest.json'), 'utf8')) as { nodes: Record<string, { resource_type: string; package_name: string }> };
  return Object.entries(manifest.nodes)
    .filter(([, node]) => node.resource_type === resourceType && node.package_name === 'stripe_elt')
    .map(([id]) => id)
    .sort();
}

/** The project's models as dbt names them (`model.stripe_elt.NAME.vN`), from the files of sql/models. */
export function projectModels(): string[] {
  const files = readdirSync(join(PROJECT, 'models'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.sql'));
  return files
    .map((file) => {
      const match = /([a-z0-9_]+)_v(\d+)\.sql$/.exec(file);
      if (!match) throw new Error(`sql/models/${file}: a model's file is named NAME_vN.sql`);
      return `model.stripe_elt.${match[1]}.v${match[2]}`;
    })
    .sort();
}
