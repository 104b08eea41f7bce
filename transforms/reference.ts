// The model reference: every model of the project, its version, what it is built as, where, its
// description and its columns, in Markdown, generated from the project's YAML so that nothing is
// written twice. `npm run models-reference` writes it between the markers in README.md; a test
// checks that the README holds what the YAML says.
import { readFileSync, writeFileSync } from 'node:fs';
import { duckdb } from './dialects.js';
import { compareVersions, readProject, type ModelNode, type Project } from './project.js';
import { TransformRun } from './runner.js';
import { offlineWarehouse } from './warehouse.js';

export const REFERENCE_START = '<!-- models:start (generated from sql/ by `npm run models-reference`: do not edit) -->';
export const REFERENCE_END = '<!-- models:end -->';

function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replaceAll('|', '\\|').trim();
}

function layerOf(model: ModelNode): string {
  const folder = model.path.split('/')[1] ?? '';
  return ['staging', 'intermediate', 'marts'].includes(folder) ? folder : 'other';
}

/** The reference only compiles the project: no warehouse is asked anything. */
const offline = offlineWarehouse('duckdb', 'duckdb:(reference)');

/** The reference, in Markdown: one section per layer, one entry per model, as the build makes it. */
export function modelReference(project: Project): string {
  const run = new TransformRun({ project, warehouse: offline, ledger: offline, dialect: duckdb, target: { type: 'duckdb', schema: 'main', name: 'reference' } });
  const nodes = [...run.graph.nodes.values()].filter((n) => n.kind === 'model' && n.model);
  const out: string[] = [];
  for (const layer of ['staging', 'intermediate', 'marts', 'other']) {
    const names = [...new Set(nodes.filter((n) => layerOf(n.model as ModelNode) === layer).map((n) => n.name))].sort();
    if (names.length === 0) continue;
    out.push(`#### ${layer[0]?.toUpperCase()}${layer.slice(1)}`, '');
    for (const name of names) {
      const versions = nodes.filter((n) => n.name === name);
      const latest = versions.find((n) => n.model?.isLatest) ?? (versions[0] as (typeof versions)[number]);
      const numbers = versions.map((n) => n.version).filter((v): v is string => v !== undefined).sort(compareVersions);
      const where = latest.config.materialized === 'ephemeral' ? '' : `\`${run.relation(latest.id).schema}.${run.relation(latest.id).identifier}\`, `;
      const versionText = numbers.length === 0 ? '' : numbers.length === 1 ? `; version ${numbers[0]}` : `; versions ${numbers.join(', ')} (latest ${latest.version})`;
      out.push(`**${name}** (${where}${latest.config.materialized}${versionText}): ${cell((latest.model as ModelNode).description)}`, '');
      const columns = (latest.model as ModelNode).columns;
      if (columns.length > 0) {
        out.push('| column | description |', '|---|---|');
        for (const column of columns) out.push(`| \`${column.name}\` | ${cell(column.description)} |`);
        out.push('');
      }
    }
  }
  return out.join('\n').trimEnd();
}

/** README.md with its reference block replaced by the one the project's YAML gives. */
export function withReference(readme: string, reference: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no model reference block (${REFERENCE_START} … ${REFERENCE_END}).`);
  return `${readme.slice(0, start + REFERENCE_START.length)}\n\n${reference}\n\n${readme.slice(end)}`;
}

// `tsx transforms/reference.ts [project] [readme]`: writes the reference into the README.
if (import.meta.url === `file://${process.argv[1]}`) {
  const project = readProject(process.argv[2] ?? 'sql');
  const readmePath = process.argv[3] ?? 'README.md';
  writeFileSync(readmePath, withReference(readFileSync(readmePath, 'utf8'), modelReference(project)));
}
