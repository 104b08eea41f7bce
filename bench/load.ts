// The load benchmark: how fast `stripe-elt write` puts read's messages into DuckDB, as a ratio of
// DuckDB's own read_json of the same records from a file into one table (the floor of any DuckDB
// load), and its peak memory at two sizes. The messages are those `stripe-elt read` prints for a
// simulated Connect platform; they are generated once and kept in the system's temp directory.
//
//   node --import tsx bench/load.ts [--objects 1000000] [--small 100000] [--accounts 20] [--repeats 2]
//
// Needs `npm run build` first (`make bench` does it): the measured process is the built command.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { STREAM_NAMES } from '../connector/streams/catalog.js';
import { peakMemory } from './measure.js';

const argv = yargs(hideBin(process.argv))
  .options({
    objects: { type: 'number', default: 1_000_000, describe: 'objects in the simulated world (records read also count events)' },
    small: { type: 'number', default: 100_000, describe: 'records of the smaller load, for the memory comparison' },
    accounts: { type: 'number', default: 20 },
    repeats: { type: 'number', default: 2, describe: 'runs of each side, alternating; the medians are compared' },
    seed: { type: 'string', default: 'bench-load' },
  })
  .strict()
  .parseSync();

const CLI = 'dist/connector/cli.js';
const dir = join(tmpdir(), 'stripe-elt-bench-load', `${argv.seed}-${argv.objects}-${argv.accounts}`);
mkdirSync(dir, { recursive: true });

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** read's messages for the simulated platform, read once at full speed (no rate limits). */
async function generateMessages(path: string): Promise<void> {
  if (existsSync(path)) return;
  log(`generating ${path}: a simulated platform of ${argv.objects} objects, read by stripe-elt read…`);
  const sim = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/simulator/main.ts', '--port', '0', '--mode', 'live', '--seed', argv.seed, '--now', '2026-11-01',
      '--objects', String(argv.objects), '--accounts', String(argv.accounts), '--rate-live', '0', '--rate-endpoint', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [line] = (await once(createInterface({ input: sim.stdout as NodeJS.ReadableStream }), 'line')) as [string];
    const config = join(dir, 'config.json');
    const catalog = join(dir, 'catalog.json');
    writeFileSync(config, JSON.stringify({ api_key: 'rk_live_simulator', api_base: line.replace('listening on ', ''), start_date: '2024-01-01', max_requests_per_second: 1000 }));
    writeFileSync(catalog, JSON.stringify({ streams: STREAM_NAMES.map((name) => ({ stream: { name }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' })) }));
    const partial = `${path}.partial`;
    const out = openSync(partial, 'w');
    const read = spawn(process.execPath, [CLI, 'read', '--config', config, '--catalog', catalog], { stdio: ['ignore', out, 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } });
    const [code] = (await once(read, 'exit')) as [number];
    closeSync(out);
    if (code !== 0) throw new Error(`stripe-elt read exited with ${code}`);
    renameSync(partial, path);
  } finally {
    sim.kill('SIGTERM');
  }
}

/**
 * The first `records` RECORDs of the messages with the STATEs among them (into `cutPath`, unless
 * it is all of them), and those RECORDs alone (into `recordsPath`).
 */
async function cut(messages: string, records: number, cutPath: string | null, recordsPath: string): Promise<number> {
  if ((cutPath === null || existsSync(cutPath)) && existsSync(recordsPath)) return Number(readFileSync(`${recordsPath}.count`, 'utf8'));
  const all = cutPath ? createWriteStream(`${cutPath}.partial`) : null;
  const only = createWriteStream(`${recordsPath}.partial`);
  let count = 0;
  for await (const line of createInterface({ input: createReadStream(messages), crlfDelay: Infinity })) {
    const isRecord = line.startsWith('{"type":"RECORD"');
    if (isRecord && count === records) break;
    if (all && !all.write(`${line}\n`)) await once(all, 'drain');
    if (isRecord) {
      count++;
      if (!only.write(`${line}\n`)) await once(only, 'drain');
    }
  }
  await Promise.all([new Promise((resolve) => (all ? all.end(resolve) : resolve(undefined))), new Promise((resolve) => only.end(resolve))]);
  if (cutPath) renameSync(`${cutPath}.partial`, cutPath);
  renameSync(`${recordsPath}.partial`, recordsPath);
  writeFileSync(`${recordsPath}.count`, String(count));
  return count;
}

/** The baseline: DuckDB reading the records file into one table (the whole message, data as JSON). */
async function baseline(records: string): Promise<number> {
  const file = join(dir, 'baseline.duckdb');
  rmSync(file, { force: true });
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  const started = performance.now();
  await connection.run(
    `CREATE TABLE records AS SELECT * FROM read_json('${records}', format = 'newline_delimited',
       columns = {type: 'VARCHAR', record: 'STRUCT(stream VARCHAR, data JSON, emitted_at BIGINT)'})`,
  );
  await connection.run('CHECKPOINT');
  const seconds = (performance.now() - started) / 1000;
  connection.closeSync();
  instance.closeSync();
  rmSync(file, { force: true });
  return seconds;
}

/** `stripe-elt write` of the messages into a new DuckDB file: seconds and peak memory (MB). */
async function write(messages: string): Promise<{ seconds: number; peakMb: number; commits: number; fileMb: number }> {
  const file = join(dir, 'write.duckdb');
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  const input = openSync(messages, 'r');
  const started = performance.now();
  const peak = peakMemory();
  const child = spawn(process.execPath, [...peak.args, CLI, 'write', '--warehouse', `duckdb:${file}`], {
    stdio: [input, 'ignore', 'pipe'],
    env: { ...process.env, ...peak.env, LOG_LEVEL: 'info' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  const seconds = (performance.now() - started) / 1000;
  closeSync(input);
  if (code !== 0) throw new Error(`stripe-elt write exited with ${code}: ${stderr}`);
  const finished = JSON.parse(stderr.split('\n').find((l) => l.includes('"write finished"')) ?? '{}') as { commits?: number };
  const fileMb = Math.round(statSync(file).size / 1e6);
  rmSync(file, { force: true });
  return { seconds, peakMb: peak.read(), commits: finished.commits ?? 0, fileMb };
}

/** The middle value; of an even count, the mean of the two middle ones. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function measure(label: string, messages: string, records: string, count: number) {
  const bytes = statSync(records).size;
  const base: number[] = [];
  const ours: number[] = [];
  const peaks: number[] = [];
  let commits = 0;
  let fileMb = 0;
  for (let i = 0; i < argv.repeats; i++) {
    // Each run starts with the disk's dirty pages written, so that none pays for the previous one's writes.
    execFileSync('sync');
    base.push(await baseline(records));
    execFileSync('sync');
    const run = await write(messages);
    ours.push(run.seconds);
    peaks.push(run.peakMb);
    commits = run.commits;
    fileMb = run.fileMb;
    log(`${label} #${i + 1}: read_json ${base.at(-1)?.toFixed(1)} s, stripe-elt write ${run.seconds.toFixed(1)} s (${run.commits} commits), peak ${run.peakMb} MB`);
  }
  const result = {
    records: count,
    megabytes: Math.round(bytes / 1e6),
    read_json_seconds: Number(median(base).toFixed(2)),
    write_seconds: Number(median(ours).toFixed(2)),
    ratio: Number((median(base) / median(ours)).toFixed(3)),
    write_records_per_second: Math.round(count / median(ours)),
    write_peak_mb: Math.max(...peaks),
    commits,
    duckdb_file_mb: fileMb,
  };
  log(`${label}: ${JSON.stringify(result)}`);
  return result;
}

const messages = join(dir, 'messages.ndjson');
await generateMessages(messages);
const fullCount = await cut(messages, Number.MAX_SAFE_INTEGER, null, join(dir, 'full-records.ndjson'));
const smallCount = await cut(messages, argv.small, join(dir, 'small.ndjson'), join(dir, 'small-records.ndjson'));
const small = await measure('small', join(dir, 'small.ndjson'), join(dir, 'small-records.ndjson'), smallCount);
const full = await measure('full', messages, join(dir, 'full-records.ndjson'), fullCount);
const summary = {
  objects: argv.objects,
  accounts: argv.accounts + 1,
  small,
  full,
  memory_growth: Number((full.write_peak_mb / small.write_peak_mb).toFixed(2)),
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.stdout.write(
  `load into DuckDB: ${full.records} records (${full.megabytes} MB) in ${full.write_seconds} s, ${full.write_records_per_second} records/s; ` +
    `read_json of the same records ${full.read_json_seconds} s → ratio ${full.ratio} (target ≥ 0.5)\n` +
    `peak memory: ${full.write_peak_mb} MB at ${full.records} records, ${small.write_peak_mb} MB at ${small.records} → ${summary.memory_growth}× (targets < 500 MB, ≤ 1.5×)\n`,
);
