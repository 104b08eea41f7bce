// The commands on a terminal (a pseudo-terminal made by util-linux `script`): load, reset and transform speak
// sentences, and print a TRACE only when stdout is not a terminal; the protocol commands keep JSON
// on a terminal too; write says what it waits for when nothing is piped into it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { closedPort } from '../loopback.js';
import { screen } from '../terminal-screen.js';
import { configFor } from './helpers.js';

let sim: RunningSimulator;
let dir: string;
let config: string;

const quoted = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** `stripe-elt ARGS` on a terminal of 100 columns, its stdout sent to `stdoutFile` if given. */
function startOnTerminal(args: readonly string[], stdoutFile?: string): ChildProcess {
  const command = `${[process.execPath, '--import', 'tsx', 'connector/cli.ts', ...args].map(quoted).join(' ')}${stdoutFile ? ` > ${quoted(stdoutFile)}` : ''}`;
  return spawn('script', ['-qec', `stty cols 100 rows 40; exec ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info' } });
}

/** What the terminal shows at the end, its raw bytes, and the exit code. */
async function finish(child: ChildProcess): Promise<{ code: number | null; shown: string[]; raw: string }> {
  let raw = '';
  child.stdout?.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, shown: screen(raw), raw };
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'terminal', objects: 300, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-terminal-'));
  config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(sim)));
});
afterAll(() => sim.close());

describe('load and reset on a terminal', () => {
  it('a failed load prints its error once, as a sentence, and no TRACE', async () => {
    const port = await closedPort();
    const unreachable = join(dir, 'unreachable.json');
    writeFileSync(unreachable, JSON.stringify(configFor(sim, { api_base: `http://127.0.0.1:${port}` })));
    const { code, shown } = await finish(startOnTerminal(['load', '--config', unreachable, '--warehouse', `duckdb:${join(dir, 'failed.duckdb')}`]));
    expect(code).toBe(1);
    expect(shown).toEqual([`Error: Could not reach Stripe at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}. Check the network, or api_base.`]);
  });

  it('with stdout not a terminal, the TRACE goes there and the sentence to the terminal', async () => {
    const port = await closedPort();
    const unreachable = join(dir, 'unreachable-to-file.json');
    writeFileSync(unreachable, JSON.stringify(configFor(sim, { api_base: `http://127.0.0.1:${port}` })));
    const out = join(dir, 'load.stdout');
    const { code, shown } = await finish(startOnTerminal(['load', '--config', unreachable, '--warehouse', `duckdb:${join(dir, 'failed2.duckdb')}`], out));
    expect(code).toBe(1);
    const sentence = `Could not reach Stripe at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}. Check the network, or api_base.`;
    expect(shown).toEqual([`Error: ${sentence}`]);
    const printed = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { trace: { type: string; error: { message: string } } });
    expect(printed.map((m) => [m.trace.type, m.trace.error.message])).toEqual([['ERROR', sentence]]);
  });

  it('a load logs sentences, then prints its summary', async () => {
    const warehouse = join(dir, 'loaded.duckdb');
    const { code, shown } = await finish(startOnTerminal(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]));
    expect(code).toBe(0);
    expect(shown.filter((line) => line.trimStart().startsWith('{'))).toEqual([]);
    expect(shown[0]).toMatch(/^read finished \(records \(customers \d+, products \d+, .*\), requests \(requests \d+, retries 0, rateLimited 0, failures 0\), seconds \d+\)$/);
    expect(shown[1]).toMatch(new RegExp(`^Loaded [\\d,]+ records into duckdb:${warehouse} in [\\d.]+ s, from 2 accounts`));
  });

  it('a refused reset prints its error once, as a sentence', async () => {
    const warehouse = join(dir, 'reset.duckdb');
    const { code, shown } = await finish(startOnTerminal(['reset', '--warehouse', `duckdb:${warehouse}`, '--stream', 'customers']));
    expect(code).toBe(1);
    expect(shown).toEqual([`Error: There is no stripe-elt warehouse at duckdb:${warehouse}: nothing to reset, and nothing was created. Check --warehouse (and, for BigQuery, --dataset-prefix).`]);
  });
});

describe('transform on a terminal', () => {
  it('a refused transform prints its error once, as a sentence, and creates nothing', async () => {
    const warehouse = join(dir, 'never-loaded.duckdb');
    const { code, shown } = await finish(startOnTerminal(['transform', '--warehouse', `duckdb:${warehouse}`]));
    expect(code).toBe(1);
    expect(shown).toEqual([`Error: There is no stripe-elt warehouse at duckdb:${warehouse}: nothing to transform. Load it first (stripe-elt load, or stripe-elt sync).`]);
    expect(existsSync(warehouse)).toBe(false);
  });
});

describe('a usage error on a terminal', () => {
  it('is the sentence alone, without a TRACE, and exit code 2', async () => {
    const { code, shown } = await finish(startOnTerminal(['lod', '--config', config]));
    expect(code).toBe(2);
    expect(shown).toEqual(['Unknown argument: lod (did you mean load?). Run stripe-elt --help for the commands.']);
  });
});

describe('the protocol commands on a terminal', () => {
  it('read keeps the protocol on stdout and JSON logs on stderr', async () => {
    const port = await closedPort();
    const unreachable = join(dir, 'read-unreachable.json');
    writeFileSync(unreachable, JSON.stringify(configFor(sim, { api_base: `http://127.0.0.1:${port}` })));
    const catalog = join(dir, 'catalog.json');
    writeFileSync(catalog, JSON.stringify({ streams: [{ stream: { name: 'coupons', json_schema: {}, supported_sync_modes: ['incremental'] }, sync_mode: 'incremental' }] }));
    const { code, shown } = await finish(startOnTerminal(['read', '--config', unreachable, '--catalog', catalog]));
    expect(code).toBe(1);
    const lines = shown.map((line) => JSON.parse(line) as { type?: string; msg?: string });
    expect(lines.map((line) => line.type ?? line.msg?.slice(0, 24))).toEqual(['TRACE', 'Could not reach Stripe a']);
  });

  it('write with nothing piped says once that it waits for messages on stdin, then reads them', async () => {
    const child = startOnTerminal(['write', '--warehouse', `duckdb:${join(dir, 'write.duckdb')}`]);
    const done = finish(child);
    let raw = '';
    child.stdout?.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    while (!raw.includes('Ctrl-D')) await new Promise((resolve) => setTimeout(resolve, 50));
    child.stdin?.write('\x04'); // Ctrl-D: the end of the input
    const { code, shown } = await done;
    expect(code).toBe(0);
    expect(shown).toEqual([
      'write is waiting for Airbyte messages on stdin, one JSON object a line (Ctrl-D ends them). It loads what read prints: stripe-elt read --config config.json --catalog catalog.json | stripe-elt write --warehouse duckdb:stripe.duckdb',
      expect.stringMatching(/^(\^D)?\{"level":40,"time":\d+,"msg":"No messages on stdin: nothing was loaded\. /),
      expect.stringMatching(/^\{"level":30,"time":\d+,"records":0,"commits":0,"msg":"write finished"\}$/),
    ]);
  });
});
