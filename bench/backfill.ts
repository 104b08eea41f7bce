// The backfill benchmark: a Connect platform (20 connected accounts, 300,000+ objects) in a
// simulator with Stripe's live limits (100 requests/s, 25 per endpoint) and 50 ms of latency.
// Read twice: by `stripe-elt read`, and the simple way (the SDK's auto-pagination, one stream and
// account after another). Each is reported as ideal time ÷ actual time, with its peak memory.
// The ideal time is the larger of (pages needed ÷ 100/s) and (pages of the busiest endpoint ÷
// 25/s), a page being 100 objects of one stream and account.
//
//   node --import tsx bench/backfill.ts [--objects 300000] [--accounts 20] [--latency-ms 50]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { STREAMS, STREAM_NAMES } from '../connector/streams/catalog.js';
import { cpuSeconds, peakMemory } from './measure.js';

const argv = yargs(hideBin(process.argv))
  .options({
    objects: { type: 'number', default: 300_000 },
    accounts: { type: 'number', default: 20 },
    'latency-ms': { type: 'number', default: 50 },
    seed: { type: 'string', default: 'bench' },
    skip: { choices: ['none', 'simple', 'connector'] as const, default: 'none' as const },
  })
  .strict()
  .parseSync();

const GLOBAL_LIMIT = 100;
const ENDPOINT_LIMIT = 25;

async function startSimulator(): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', 'test/simulator/main.ts', '--port', '0', '--mode', 'live', '--seed', argv.seed, '--now', '2026-11-01',
      '--objects', String(argv.objects), '--accounts', String(argv.accounts), '--latency-ms', String(argv['latency-ms']),
      '--rate-live', String(GLOBAL_LIMIT), '--rate-endpoint', String(ENDPOINT_LIMIT),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line')) as [string];
  return { url: line.replace('listening on ', ''), process: child };
}

/** Pages each stream and account needs, from the simulator's truth: what a list returns. */
async function idealSeconds(url: string): Promise<{ seconds: number; pages: number; busiest: string; busiestPages: number; objects: number }> {
  const counts = new Map<string, number>();
  const accounts = new Set<string>();
  const response = await fetch(`${url}/_sim/truth?mode=live`);
  let objects = 0;
  const lines = createInterface({ input: (await import('node:stream')).Readable.fromWeb(response.body as never) });
  for await (const line of lines) {
    const t = JSON.parse(line) as { stream: string; account_id: string; deleted: boolean };
    accounts.add(t.account_id);
    if (t.deleted) continue;
    objects++;
    counts.set(`${t.stream}|${t.account_id}`, (counts.get(`${t.stream}|${t.account_id}`) ?? 0) + 1);
  }
  const platform = [...accounts][0] as string;
  const byEndpoint = new Map<string, number>();
  let pages = 0;
  for (const stream of STREAM_NAMES) {
    const scope = STREAMS[stream].scope === 'platform' ? [platform] : [...accounts];
    for (const account of scope) {
      const n = Math.max(1, Math.ceil((counts.get(`${stream}|${account}`) ?? 0) / 100));
      pages += n;
      byEndpoint.set(stream, (byEndpoint.get(stream) ?? 0) + n);
    }
  }
  const [busiest, busiestPages] = [...byEndpoint].sort((a, b) => b[1] - a[1])[0] as [string, number];
  return { seconds: Math.max(pages / GLOBAL_LIMIT, busiestPages / ENDPOINT_LIMIT), pages, busiest, busiestPages, objects };
}

let simulatorPid: number | undefined;

interface Run {
  seconds: number;
  records: number;
  peakMb: number;
  requests: number;
}

/** A run's figures for the printed result, its ratio to the ideal time among them. */
function figures(name: string, run: Run, idealSeconds: number): Record<string, number> {
  return {
    [`${name}_seconds`]: Number(run.seconds.toFixed(1)),
    [`${name}_ratio`]: Number((idealSeconds / run.seconds).toFixed(3)),
    [`${name}_records`]: run.records,
    [`${name}_requests`]: run.requests,
    [`${name}_peak_mb`]: run.peakMb,
  };
}

async function runConnector(url: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-bench-'));
  const config = join(dir, 'config.json');
  const catalog = join(dir, 'catalog.json');
  writeFileSync(config, JSON.stringify({ api_key: 'rk_live_simulator', api_base: url, start_date: '2024-01-01' }));
  writeFileSync(catalog, JSON.stringify({ streams: STREAM_NAMES.map((name) => ({ stream: { name, json_schema: {}, supported_sync_modes: ['incremental'] }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' })) }));
  await fetch(`${url}/_sim/stats/reset`, { method: 'POST' });
  const started = performance.now();
  const peak = peakMemory();
  const child = spawn(process.execPath, [...peak.args, 'dist/connector/cli.js', 'read', '--config', config, '--catalog', catalog], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...peak.env, LOG_LEVEL: 'info' },
  });
  const simulatorCpu = cpuSeconds(simulatorPid);
  let connectorCpu = 0;
  const cpuTimer = setInterval(() => {
    const used = cpuSeconds(child.pid);
    if (Number.isFinite(used)) connectorCpu = used;
  }, 200);
  child.on('exit', () => clearInterval(cpuTimer));
  const timeline: string[] = [];
  let lastTotal = 0;
  let last429 = 0;
  let lastByEndpoint: Record<string, number> = {};
  const statsTimer = setInterval(() => {
    void fetch(`${url}/_sim/stats`).then(async (r) => {
      const stats = (await r.json()) as { total: number; by_status: Record<string, number>; by_endpoint: Record<string, number> };
      const busiest = Object.entries(stats.by_endpoint)
        .map(([e, n]) => [e.replace('GET /v1/', ''), n - (lastByEndpoint[e] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([e, n]) => `${e}:${n}`)
        .join(',');
      timeline.push(`${stats.total - lastTotal}${(stats.by_status['429'] ?? 0) > last429 ? `(429×${(stats.by_status['429'] ?? 0) - last429})` : ''}[${busiest}]`);
      lastTotal = stats.total;
      last429 = stats.by_status['429'] ?? 0;
      lastByEndpoint = stats.by_endpoint;
    });
  }, 1000);
  child.on('exit', () => clearInterval(statsTimer));
  // Drain stdout as cheaply as a fast destination would: this process must not be the bottleneck.
  let bytes = 0;
  child.stdout?.on('data', (chunk: Buffer) => (bytes += chunk.length));
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  const finished = log.split('\n').find((line) => line.includes('"read finished"'));
  const records = finished ? Object.values((JSON.parse(finished) as { records: Record<string, number> }).records).reduce((a, b) => a + b, 0) : 0;
  if (process.env.BENCH_TIMELINE) process.stderr.write(`requests per second: ${timeline.join(' ')}\n`);
  process.stderr.write(`connector printed ${(bytes / 1e6).toFixed(0)} MB; CPU seconds: connector ${connectorCpu.toFixed(1)}, simulator ${(cpuSeconds(simulatorPid) - simulatorCpu).toFixed(1)}\n`);
  if (code !== 0) throw new Error(`stripe-elt read exited with ${code}`);
  const seconds = (performance.now() - started) / 1000;
  const stats = (await (await fetch(`${url}/_sim/stats`)).json()) as { total: number };
  return { seconds, records, peakMb: peak.read(), requests: stats.total };
}

async function runSimple(url: string): Promise<Run> {
  await fetch(`${url}/_sim/stats/reset`, { method: 'POST' });
  const started = performance.now();
  const peak = peakMemory();
  const child = spawn(process.execPath, [...peak.args, '--import', 'tsx', 'bench/simple-backfill.ts', url], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...peak.env } });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`the simple backfill exited with ${code}`);
  const seconds = (performance.now() - started) / 1000;
  const stats = (await (await fetch(`${url}/_sim/stats`)).json()) as { total: number };
  return { seconds, records: Number(output.trim()), peakMb: peak.read(), requests: stats.total };
}

const sim = await startSimulator();
simulatorPid = sim.process.pid;
try {
  const ideal = await idealSeconds(sim.url);
  process.stderr.write(`ideal: ${ideal.pages} pages (busiest: ${ideal.busiest}, ${ideal.busiestPages}) → ${ideal.seconds.toFixed(1)} s for ${ideal.objects} objects\n`);
  const result: Record<string, unknown> = {
    objects: ideal.objects,
    accounts: argv.accounts + 1,
    latency_ms: argv['latency-ms'],
    pages: ideal.pages,
    busiest_endpoint: `${ideal.busiest} (${ideal.busiestPages} pages)`,
    ideal_seconds: Number(ideal.seconds.toFixed(1)),
  };
  if (argv.skip !== 'connector') {
    const connector = await runConnector(sim.url);
    Object.assign(result, figures('connector', connector, ideal.seconds));
    process.stderr.write(`connector: ${JSON.stringify(connector)}\n`);
  }
  if (argv.skip !== 'simple') {
    // Let the rate windows of the previous run pass.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    Object.assign(result, figures('simple', await runSimple(sim.url), ideal.seconds));
  }
  console.log(JSON.stringify(result));
} finally {
  sim.process.kill('SIGTERM');
}
