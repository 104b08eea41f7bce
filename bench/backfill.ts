// The backfill benchmark: a simulated Stripe with Stripe's live limits (100 requests/s, 25 per
// endpoint) and 50 ms of latency, read in full from no state by `stripe-elt read` and by
// `stripe-elt load` (read and write into a new DuckDB file, in one process), one after the other,
// each against a simulator of its own with the same data; on request also the simple way (the
// SDK's auto-pagination, one stream and account after another). Each run is reported as ideal time ÷ actual time, with its
// requests and peak memory. The ideal time is the larger of (pages needed ÷ 100/s) and (pages of
// the busiest endpoint ÷ 25/s), a page being 100 objects of one stream and account (at least one
// page each). The connector runs at Stripe's full limits (less its pacing margin), as set with
// `max_requests_per_second` for a night-time backfill.
//
// Shapes of data, each sized for an ideal time of 30 s or more so that start-up does not count:
//   standard        a Connect platform and 20 connected accounts of different sizes
//   fees-platform   the platform alone, whose objects sit in two streams (application fees, balance transactions)
//   many-accounts   200 small connected accounts: mostly streams of one page
//   bursts          objects created 150 in the same second
//   quiet-gaps      objects created in short seasons with long quiet gaps between
//
//   node --import tsx bench/backfill.ts [--shape standard|…|all] [--runs read,load,simple] [--objects N] [--accounts N]
//     [--load-args "--duckdb-memory-limit 128MB"] [--node-options "--max-old-space-size=96"] [--limit-slack 0.1]
//
// Needs `npm run build` first (`make bench` does it): the measured processes are the built command.
// BENCH_TIMELINE=1 prints requests per second (and the two busiest endpoints) for each run.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { STREAMS, STREAM_NAMES } from '../connector/streams/catalog.js';
import { cpuSeconds, peakMemory } from './measure.js';

const GLOBAL_LIMIT = 100;
const ENDPOINT_LIMIT = 25;
/** Stripe's 100 a second, less the margin that keeps network jitter from pushing a second over. */
const FULL_RATE = 97;

interface Shape {
  readonly objects: number;
  readonly accounts: number;
  /** The simulator's --shape, if any. */
  readonly simulatorShape?: string;
  /** What the connector's config adds. */
  readonly config?: Record<string, unknown>;
}

const SHAPES: Record<string, Shape> = {
  standard: { objects: 300_000, accounts: 20 },
  'fees-platform': { objects: 500_000, accounts: 20, simulatorShape: 'fees-platform', config: { connected_accounts: 'none' } },
  'many-accounts': { objects: 60_000, accounts: 200 },
  bursts: { objects: 300_000, accounts: 20, simulatorShape: 'bursts' },
  'quiet-gaps': { objects: 300_000, accounts: 20, simulatorShape: 'quiet-gaps' },
};
const RUNS = ['read', 'load', 'simple'] as const;
type RunName = (typeof RUNS)[number];

const argv = yargs(hideBin(process.argv))
  .options({
    shape: { choices: [...Object.keys(SHAPES), 'all'], default: 'standard', describe: 'the data to read (all: every shape, one after another)' },
    runs: { type: 'string', default: 'read,load', describe: `which runs, of ${RUNS.join(', ')}` },
    objects: { type: 'number', describe: "objects in the simulated world (default: the shape's)" },
    accounts: { type: 'number', describe: "connected accounts (default: the shape's)" },
    'latency-ms': { type: 'number', default: 50 },
    'limit-slack': {
      type: 'number',
      default: 0,
      describe: "the simulator's limits above Stripe's by this share (0.1: 110/s and 27.5 per endpoint), so that its own pauses on a busy machine cause no 429s; the ideal stays at Stripe's",
    },
    seed: { type: 'string', default: 'bench' },
    'load-args': { type: 'string', default: '', describe: 'more arguments for stripe-elt load, such as "--duckdb-memory-limit 128MB"' },
    'node-options': { type: 'string', default: '', describe: 'options for the measured Node process, such as "--max-old-space-size=96"' },
  })
  .strict()
  .parseSync();

const runs = argv.runs.split(',').map((name) => {
  if (!(RUNS as readonly string[]).includes(name)) throw new Error(`--runs: "${name}" is not one of ${RUNS.join(', ')}`);
  return name as RunName;
});

function words(text: string): string[] {
  return text.split(' ').filter((word) => word !== '');
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

interface Simulator {
  readonly url: string;
  readonly process: ChildProcess;
}

async function startSimulator(shape: Shape): Promise<Simulator> {
  const child = spawn(
    process.execPath,
    [
      // A young generation large enough that the simulator's collections of old objects are rare
      // and short: a pause of 30 ms bunches the requests that arrive during it past Stripe's limit
      // (Stripe's servers do not pause like that), and the 429 slows the connector for half a minute.
      '--max-semi-space-size=64',
      '--import', 'tsx', 'test/simulator/main.ts', '--port', '0', '--mode', 'live', '--seed', argv.seed, '--now', '2026-11-01',
      '--objects', String(shape.objects), '--accounts', String(shape.accounts), '--latency-ms', String(argv['latency-ms']),
      '--rate-live', String(Math.floor(GLOBAL_LIMIT * (1 + argv['limit-slack']))), '--rate-endpoint', String(Math.floor(ENDPOINT_LIMIT * (1 + argv['limit-slack']))),
      ...(shape.simulatorShape ? ['--shape', shape.simulatorShape] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [string];
  return { url: line.replace('listening on ', ''), process: child };
}

interface Ideal {
  seconds: number;
  pages: number;
  busiest: string;
  busiestPages: number;
  objects: number;
  /** Pages needed per endpoint, most first. */
  byEndpoint: [string, number][];
}

/** Pages each stream and account needs, from the simulator's truth (what a list returns), for the accounts the connector reads. */
async function idealSeconds(url: string, platformOnly: boolean): Promise<Ideal> {
  const counts = new Map<string, number>();
  const accounts = new Set<string>();
  const response = await fetch(`${url}/_sim/truth?mode=live`);
  const lines = createInterface({ input: Readable.fromWeb(response.body as never) });
  for await (const line of lines) {
    const t = JSON.parse(line) as { stream: string; account_id: string; deleted: boolean };
    accounts.add(t.account_id);
    if (t.deleted) continue;
    counts.set(`${t.stream}|${t.account_id}`, (counts.get(`${t.stream}|${t.account_id}`) ?? 0) + 1);
  }
  const platform = [...accounts][0] as string;
  const byEndpoint = new Map<string, number>();
  let pages = 0;
  let objects = 0;
  for (const stream of STREAM_NAMES) {
    const scope = STREAMS[stream].scope === 'platform' || platformOnly ? [platform] : [...accounts];
    for (const account of scope) {
      const n = counts.get(`${stream}|${account}`) ?? 0;
      objects += n;
      const needed = Math.max(1, Math.ceil(n / 100));
      pages += needed;
      byEndpoint.set(stream, (byEndpoint.get(stream) ?? 0) + needed);
    }
  }
  const sorted = [...byEndpoint].sort((a, b) => b[1] - a[1]);
  const [busiest, busiestPages] = sorted[0] as [string, number];
  return { seconds: Math.max(pages / GLOBAL_LIMIT, busiestPages / ENDPOINT_LIMIT), pages, busiest, busiestPages, objects, byEndpoint: sorted };
}

interface Run {
  seconds: number;
  records: number;
  peakMb: number;
  requests: number;
  rateLimited: number;
}

/** A run's figures for the printed result, its ratio to the ideal time among them. */
function figures(name: string, run: Run, ideal: number): Record<string, number> {
  return {
    [`${name}_seconds`]: Number(run.seconds.toFixed(1)),
    [`${name}_ratio`]: Number((ideal / run.seconds).toFixed(3)),
    [`${name}_records`]: run.records,
    [`${name}_requests`]: run.requests,
    [`${name}_429s`]: run.rateLimited,
    [`${name}_peak_mb`]: run.peakMb,
  };
}

interface SimulatorStats {
  total: number;
  by_status: Record<string, number>;
  by_endpoint: Record<string, number>;
}

async function simulatorStats(url: string): Promise<SimulatorStats> {
  return (await (await fetch(`${url}/_sim/stats`)).json()) as SimulatorStats;
}

/** Requests in each second of a run, and its two busiest endpoints then, from the simulator's counts. */
function timeline(url: string): { stop: () => string } {
  const seconds: string[] = [];
  let last: SimulatorStats = { total: 0, by_status: {}, by_endpoint: {} };
  const timer = setInterval(() => {
    void simulatorStats(url).then((stats) => {
      const busiest = Object.entries(stats.by_endpoint)
        .map(([e, n]) => [e.replace('GET /v1/', ''), n - (last.by_endpoint[e] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([e, n]) => `${e}:${n}`)
        .join(',');
      const refused = (stats.by_status['429'] ?? 0) - (last.by_status['429'] ?? 0);
      seconds.push(`${stats.total - last.total}${refused > 0 ? `(429×${refused})` : ''}[${busiest}]`);
      last = stats;
    });
  }, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      return seconds.join(' ');
    },
  };
}

/** One run of the built command against the simulator: `read` (stdout drained) or `load` (into a new DuckDB file). */
async function runConnector(sim: Simulator, command: 'read' | 'load', shape: Shape): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-bench-'));
  const config = join(dir, 'config.json');
  const catalog = join(dir, 'catalog.json');
  writeFileSync(config, JSON.stringify({ api_key: 'rk_live_simulator', api_base: sim.url, start_date: '2024-01-01', max_requests_per_second: FULL_RATE, ...shape.config }));
  writeFileSync(catalog, JSON.stringify({ streams: STREAM_NAMES.map((name) => ({ stream: { name, json_schema: {}, supported_sync_modes: ['incremental'] }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' })) }));
  const args = command === 'read' ? ['read', '--config', config, '--catalog', catalog] : ['load', '--config', config, '--catalog', catalog, '--warehouse', `duckdb:${join(dir, 'load.duckdb')}`];
  await fetch(`${sim.url}/_sim/stats/reset`, { method: 'POST' });
  const simulatorCpu = cpuSeconds(sim.process.pid);
  const started = performance.now();
  const peak = peakMemory();
  const child = spawn(process.execPath, [...peak.args, ...words(argv['node-options']), 'dist/connector/cli.js', ...args, ...(command === 'load' ? words(argv['load-args']) : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...peak.env, LOG_LEVEL: 'info' },
  });
  yieldToSimulator(child);
  let connectorCpu = 0;
  const cpuTimer = setInterval(() => {
    const used = cpuSeconds(child.pid);
    if (Number.isFinite(used)) connectorCpu = used;
  }, 200);
  const perSecond = timeline(sim.url);
  // Drain stdout as cheaply as a fast destination would: this process must not be the bottleneck.
  let bytes = 0;
  let summary = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (command === 'load') summary += chunk.toString();
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  const seconds = (performance.now() - started) / 1000;
  clearInterval(cpuTimer);
  const requestsPerSecond = perSecond.stop();
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`stripe-elt ${command} exited with ${code}: ${stderr.slice(-2000)}`);
  if (process.env.BENCH_TIMELINE) log(`${command}, requests per second: ${requestsPerSecond}`);
  const finished = stderr.split('\n').find((line) => line.includes('"read finished"'));
  const read = finished ? (JSON.parse(finished) as { records: Record<string, number> }) : undefined;
  const records = command === 'read' ? Object.values(read?.records ?? {}).reduce((a, b) => a + b, 0) : Number(/Loaded ([\d,]+) records/.exec(summary)?.[1]?.replaceAll(',', '') ?? 0);
  log(`${command}: ${(bytes / 1e6).toFixed(0)} MB printed; CPU seconds: connector ${connectorCpu.toFixed(1)}, simulator ${(cpuSeconds(sim.process.pid) - simulatorCpu).toFixed(1)}`);
  const stats = await simulatorStats(sim.url);
  return { seconds, records, peakMb: peak.read(), requests: stats.total, rateLimited: stats.by_status['429'] ?? 0 };
}

/**
 * The measured process runs a little nicer than the simulator: on two shared cores, a simulator
 * kept waiting for the CPU answers late and counts the requests that waited together, past
 * Stripe's limit, where Stripe's own servers would not have paused.
 */
function yieldToSimulator(child: ChildProcess): void {
  if (child.pid !== undefined) setPriority(child.pid, Math.min(19, getPriority() + 2));
}

async function runSimple(sim: Simulator): Promise<Run> {
  await fetch(`${sim.url}/_sim/stats/reset`, { method: 'POST' });
  const started = performance.now();
  const peak = peakMemory();
  const child = spawn(process.execPath, [...peak.args, '--import', 'tsx', 'bench/simple-backfill.ts', sim.url], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...peak.env } });
  yieldToSimulator(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`the simple backfill exited with ${code}`);
  const seconds = (performance.now() - started) / 1000;
  const stats = await simulatorStats(sim.url);
  return { seconds, records: Number(output.trim()), peakMb: peak.read(), requests: stats.total, rateLimited: stats.by_status['429'] ?? 0 };
}

/** Starts a simulator for `use`, and stops it afterwards. */
async function withSimulator<T>(shape: Shape, use: (sim: Simulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator(shape);
  try {
    // Let the simulator's garbage from building its world be collected first.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return await use(sim);
  } finally {
    sim.process.kill('SIGTERM');
    await once(sim.process, 'exit');
  }
}

async function benchmark(name: string, defaults: Shape): Promise<Record<string, unknown>> {
  const shape: Shape = { ...defaults, objects: argv.objects ?? defaults.objects, accounts: argv.accounts ?? defaults.accounts };
  const platformOnly = shape.config?.connected_accounts === 'none';
  if (platformOnly && runs.includes('simple')) throw new Error(`the simple way reads every account: leave it out of --runs for ${name}`);
  // Each run meets a simulator of its own, just started, with the same data (the same seed and
  // options): a simulator that served the run before holds its renderings, and collecting them
  // pauses it (a pause of 30 ms bunches the requests waiting behind it past Stripe's limit).
  const measured: [RunName, Run][] = [];
  for (const run of runs) {
    const figuresOfRun = await withSimulator(shape, (sim) => (run === 'simple' ? runSimple(sim) : runConnector(sim, run, shape)));
    log(`${name} ${run}: ${JSON.stringify(figuresOfRun)}`);
    measured.push([run, figuresOfRun]);
  }
  const ideal = await withSimulator(shape, (sim) => idealSeconds(sim.url, platformOnly));
  log(`${name}: ${ideal.pages} pages (${ideal.byEndpoint.map(([e, n]) => `${e} ${n}`).join(', ')}) → ideal ${ideal.seconds.toFixed(1)} s for ${ideal.objects} objects`);
  const result: Record<string, unknown> = {
    shape: name,
    objects: ideal.objects,
    accounts: platformOnly ? 1 : shape.accounts + 1,
    latency_ms: argv['latency-ms'],
    pages: ideal.pages,
    busiest_endpoint: `${ideal.busiest} (${ideal.busiestPages} pages)`,
    ideal_seconds: Number(ideal.seconds.toFixed(1)),
  };
  for (const [run, figuresOfRun] of measured) Object.assign(result, figures(run, figuresOfRun, ideal.seconds));
  if (result.read_seconds && result.load_seconds) result.load_vs_read = Number(((result.read_seconds as number) / (result.load_seconds as number)).toFixed(3));
  return result;
}

for (const name of argv.shape === 'all' ? Object.keys(SHAPES) : [argv.shape]) {
  console.log(JSON.stringify(await benchmark(name, SHAPES[name] as Shape)));
}
