// What `transform` prints when it ends: a line of totals, a table of every model and seed with
// its outcome, then each failure with the database's error, and each failing or warning test
// with up to five of its offending rows.
import type { NodeResult, TestResult, TransformSummary } from './runner.js';

const OUTCOME_WORDS: Readonly<Record<NodeResult['outcome'], string>> = { success: 'built', error: 'failed', skipped: 'skipped', refused: 'refused' };

function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

function tally<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

function row(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function transformReport(summary: TransformSummary): string {
  const nodes = tally(summary.nodes, (n) => OUTCOME_WORDS[n.outcome]);
  const tests = tally(summary.tests, (t) => t.outcome);
  const models = summary.nodes.filter((n) => n.kind === 'model').length;
  const seeds = summary.nodes.length - models;
  const nodeParts = ['built', 'failed', 'refused', 'skipped'].filter((w) => nodes.has(w)).map((w) => `${nodes.get(w)} ${w}`);
  const testParts = [
    ['pass', 'passed'],
    ['warn', 'warned'],
    ['fail', 'failed'],
    ['error', 'could not run'],
    ['skipped', 'skipped'],
  ]
    .filter(([k]) => tests.has(k as string))
    .map(([k, w]) => `${tests.get(k as string)} ${w}`);
  const lines = [
    `${summary.failures > 0 ? 'Transform failed' : 'Transform done'}: ${count(models, 'model')}, ${count(seeds, 'seed')} and ${count(summary.tests.length, 'data test')} in ${summary.seconds.toFixed(1)} s` +
      `${nodeParts.length > 0 ? `; ${nodeParts.join(', ')}` : ''}${testParts.length > 0 ? `; tests: ${testParts.join(', ')}` : ''}.`,
  ];
  if (summary.nodes.length > 0) {
    const width = Math.max(5, ...summary.nodes.map((n) => n.name.length));
    const header = (name: string, version: string, kind: string, outcome: string, rows: string, seconds: string) =>
      `  ${name.padEnd(width)}  ${version.padEnd(7)}  ${kind.padEnd(12)}  ${outcome.padEnd(8)}  ${rows.padStart(12)}  ${seconds.padStart(7)}`;
    lines.push('', header('model', 'version', 'materialized', 'outcome', 'rows', 'seconds'));
    for (const n of summary.nodes) {
      lines.push(header(n.name, n.version ?? '', n.materialized, OUTCOME_WORDS[n.outcome], n.rows === null ? '' : n.rows.toLocaleString('en-US'), n.seconds.toFixed(2)).trimEnd());
    }
  }
  const problems = summary.nodes.filter((n) => n.outcome === 'error' || n.outcome === 'refused');
  if (problems.length > 0) {
    lines.push('', 'Failed:');
    for (const n of problems) lines.push(`  ${n.name}${n.version ? ` v${n.version}` : ''}: ${n.message ?? OUTCOME_WORDS[n.outcome]}`);
  }
  const flagged = summary.tests.filter((t): t is TestResult => t.outcome === 'fail' || t.outcome === 'warn' || t.outcome === 'error');
  if (flagged.length > 0) {
    lines.push('', 'Data tests that did not pass:');
    for (const t of flagged) {
      const what = t.outcome === 'error' ? `could not run: ${t.message ?? ''}` : `${t.outcome === 'fail' ? 'failed' : 'warned'}, ${count(t.failures, 'offending row')}`;
      lines.push(`  ${t.name} (on ${t.attachedTo}): ${what}`);
      for (const sample of t.sample) lines.push(`      ${row(sample)}`);
    }
  }
  return lines.join('\n');
}
