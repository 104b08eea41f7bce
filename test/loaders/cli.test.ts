// The loading commands as processes: load's summary and progress, one writer at a time, what load
// refuses before reading Stripe, a load killed with SIGKILL and run again, write's echoed states
// and its refusal of broken input, reset.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBLoader, sizeInBytes } from '../../connector/loaders/duckdb/duckdb-loader.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { compareWithTruth, configFor, recordKey, type Message } from '../connector/helpers.js';
import { commit, customer, record, warehouseView } from './warehouses.js';
import { finishCli, startCli } from '../cli-process.js';

const start = (args: readonly string[], input?: string, logLevel?: string) => startCli(args, { ...(input !== undefined ? { input } : {}), ...(logLevel ? { logLevel } : {}) });
const finish = finishCli;
const run = (args: readonly string[], input?: string) => finish(start(args, input));
const requestsServed = async () => (await control<{ total: number }>(sim, 'stats')).total;

let sim: RunningSimulator;
let dir: string;
let config: string;

async function view(path: string) {
  const loader = new DuckDBLoader(path);
  await loader.open();
  try {
    return { rows: await warehouseView(loader), states: await loader.states() };
  } finally {
    await loader.close();
  }
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'load-cli', objects: 4000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-load-cli-'));
  config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(sim)));
});
afterAll(() => sim.close());

describe('load', () => {
  it('prints a summary (rows per stream, accounts, duration, requests, retries) and how to query the file, logging progress when not on a terminal', async () => {
    const warehouse = join(dir, 'summary.duckdb');
    await control(sim, 'faults', { latency_ms: 3 });
    const result = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    await control(sim, 'faults', { latency_ms: 0 });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Loaded [\\d,]+ records into duckdb:${warehouse} in [\\d.]+ s, from 3 accounts \\(the platform acct_\\w+ and 2 connected\\)\\.`));
    expect(result.stdout).toMatch(/\n {2}customers +[\d,]+ +[\d,]+\n/);
    expect(result.stdout).toMatch(/Requests: [\d,]+ \(\d+ retried, \d+ rate-limited\)\./);
    expect(result.stderr).toContain('"msg":"load progress"');
    // The example query it prints runs as printed, through stripe-elt query, and sums what the raw table holds.
    const example = /Query it, for instance:\n {2}stripe-elt query "(.*)" --warehouse duckdb:(\S+)\n?$/.exec(result.stdout);
    expect(example?.[2]).toBe(warehouse);
    const { rows } = await view(warehouse);
    const queried = await run(['query', example?.[1] ?? '', '--warehouse', `duckdb:${warehouse}`, '--format', 'json']);
    expect(queried.stderr).toBe('');
    expect(queried.code).toBe(0);
    const answer = queried.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { account_id: string; charges: number; amount: number });
    const charges = [...rows.values()].filter((r) => r.stream === 'charges' && !r.data.deleted);
    expect(answer.map((row) => row.account_id)).toEqual([...new Set(charges.map((r) => String(r.data.account_id)))].sort());
    expect(answer.reduce((n, row) => n + row.charges, 0)).toBe(charges.length);
    expect(answer.reduce((n, row) => n + row.amount, 0)).toBe(charges.reduce((n, r) => n + Number(r.data.amount), 0));
    expect((await compareWithTruth(sim, rows)).missing).toEqual([]);
  });

  it("refuses a second load on the same file at once, before any request to Stripe, naming the first load's process", async () => {
    const warehouse = join(dir, 'locked.duckdb');
    // The first load's requests wait half a minute for their answers: it holds the file until it is stopped.
    await control(sim, 'faults', { latency_ms: 30_000 });
    const before = await requestsServed();
    const first = start(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    const firstDone = finish(first);
    while ((await requestsServed()) === before) await new Promise((resolve) => setTimeout(resolve, 20));
    // The second load reads from a Stripe of its own, which counts every request it would make.
    const other = await startSimulator({ seed: 'load-cli-second', objects: 100, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const otherConfig = join(dir, 'other-config.json');
    writeFileSync(otherConfig, JSON.stringify(configFor(other)));
    const second = await run(['load', '--config', otherConfig, '--warehouse', `duckdb:${warehouse}`]);
    first.kill('SIGKILL');
    await firstDone;
    await control(sim, 'faults', { latency_ms: 0 });
    const otherRequests = (await control<{ total: number }>(other, 'stats')).total;
    await other.close();
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Another stripe-elt load is running on ${warehouse} (process ${first.pid}): one writer at a time. Wait for it to finish, or stop it.`);
    expect(otherRequests).toBe(0);
  });
});

/**
 * Starts stripe-elt with its stdin open for the test to write to (`startCli` ends it at once);
 * `unprivileged`: as a user without root's power to write anywhere, so that file permissions
 * apply to it as to a user.
 */
function spawnCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; unprivileged?: boolean } = {}) {
  const user = options.unprivileged && process.getuid?.() === 0 ? { uid: 65_534, gid: 65_534 } : {};
  const child = spawn(process.execPath, ['--import', 'tsx', 'connector/cli.ts', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info', ...options.env }, ...user });
  // A child killed or failing before it read all its input closes its stdin: the rest is of no interest.
  child.stdin.on('error', () => {});
  return child;
}

describe('load where it cannot write', () => {
  let place: string;
  let readableConfig: string;
  beforeAll(() => {
    // Readable by the unprivileged user, as the folders a user loads into are.
    place = mkdtempSync(join(tmpdir(), 'stripe-elt-permissions-'));
    chmodSync(place, 0o755);
    readableConfig = join(place, 'config.json');
    writeFileSync(readableConfig, JSON.stringify(configFor(sim)), { mode: 0o644 });
  });
  afterAll(() => rmSync(place, { recursive: true, force: true }));

  /** A warehouse loaded before, in its own folder. */
  async function loadedWarehouse(name: string): Promise<{ folder: string; warehouse: string }> {
    const folder = join(place, name);
    mkdirSync(folder, { mode: 0o777 });
    chmodSync(folder, 0o777);
    const warehouse = join(folder, 'stripe.duckdb');
    const loader = new DuckDBLoader(warehouse);
    await loader.open();
    await commit(loader, [['customers', customer('cus_1', 100)]]);
    await loader.close();
    return { folder, warehouse };
  }

  it('refuses a writable warehouse in a read-only folder before any request to Stripe, naming the folder and the journal DuckDB writes there', async () => {
    const { folder, warehouse } = await loadedWarehouse('read-only-folder');
    chmodSync(warehouse, 0o666);
    chmodSync(folder, 0o555);
    const before = { requests: await requestsServed(), bytes: readFileSync(warehouse) };
    const result = await finish(spawnCli(['load', '--config', readableConfig, '--warehouse', `duckdb:${warehouse}`], { unprivileged: true }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Cannot write in the folder ${folder} (permission denied): DuckDB writes its journal stripe.duckdb.wal beside the warehouse ${warehouse}. ` +
        'Make the folder writable, or give another path with --warehouse duckdb:PATH.',
    );
    expect(await requestsServed()).toBe(before.requests);
    expect(readdirSync(folder)).toEqual(['stripe.duckdb']);
    expect(readFileSync(warehouse).equals(before.bytes)).toBe(true);
  });

  it('refuses a read-only warehouse before any request to Stripe', async () => {
    const { folder, warehouse } = await loadedWarehouse('read-only-file');
    chmodSync(warehouse, 0o444);
    const before = await requestsServed();
    const result = await finish(spawnCli(['load', '--config', readableConfig, '--warehouse', `duckdb:${warehouse}`], { unprivileged: true }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The DuckDB warehouse ${warehouse} cannot be written (permission denied), and a load writes to it. Make it writable, or give another path with --warehouse duckdb:PATH.`);
    expect(await requestsServed()).toBe(before);
    expect(readdirSync(folder)).toEqual(['stripe.duckdb']);
  });
});

describe('what a killed process leaves in the temporary folder', () => {
  let temp: string;
  beforeAll(() => {
    // A temporary folder of the test's own, as TMPDIR of the processes it starts.
    temp = mkdtempSync(join(tmpdir(), 'stripe-elt-temp-'));
  });
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it("removes the batch folder of a write killed with SIGKILL when the next one starts, and never a running process's", async () => {
    const warehouse = join(dir, 'killed-write.duckdb');
    const env = { TMPDIR: temp };
    // Folders of a running process (this one), and of a name that does not say its process.
    mkdirSync(join(temp, `stripe-elt-batches-${process.pid}-live`));
    mkdirSync(join(temp, 'stripe-elt-batches-Xy12Ab'));
    // A write that received more than a chunk of records (so that they are in its batch file) and waits for more.
    const killed = spawnCli(['write', '--warehouse', `duckdb:${warehouse}`], { env });
    const killedDone = finish(killed);
    const records = Array.from({ length: 8_000 }, (_, i) => record('customers', customer(`cus_${i}`, 100, { name: `Customer ${i}` })));
    killed.stdin.write(`${records.join('\n')}\n`);
    const batchFiles = () => readdirSync(temp).filter((f) => f.startsWith(`stripe-elt-batches-${killed.pid}-`)).flatMap((f) => readdirSync(join(temp, f)).map((file) => join(temp, f, file)));
    while (!batchFiles().some((file) => statSync(file).size > 0)) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readFileSync(batchFiles()[0] ?? '', 'utf8')).toContain('"email":"cus_0@example.com"');
    killed.kill('SIGKILL');
    expect((await killedDone).code).toBeNull();
    const left = readdirSync(temp).filter((f) => f.startsWith(`stripe-elt-batches-${killed.pid}-`));
    expect(left).toHaveLength(1);

    const next = spawnCli(['write', '--warehouse', `duckdb:${warehouse}`], { env });
    next.stdin.end(`${records.slice(0, 10).join('\n')}\n`);
    expect((await finish(next)).code).toBe(0);
    expect(readdirSync(temp).filter((f) => f.startsWith('stripe-elt-batches-')).sort()).toEqual(['stripe-elt-batches-Xy12Ab', `stripe-elt-batches-${process.pid}-live`].sort());
  });

  it('removes the spill files a DuckDB process killed while spilling left beside the warehouse', async () => {
    const warehouse = join(dir, 'spilled.duckdb');
    const spilling = spawn(process.execPath, ['--import', 'tsx', 'test/loaders/spill.ts', warehouse], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(spilling.stdout, 'data')) as [Buffer];
    expect(line.toString()).toBe('spilled\n');
    spilling.kill('SIGKILL');
    await once(spilling, 'close');
    expect(readdirSync(`${warehouse}.tmp`).filter((f) => f.startsWith('duckdb_temp_')).length).toBeGreaterThan(0);
    const result = await run(['write', '--warehouse', `duckdb:${warehouse}`], `${record('customers', customer('cus_1', 100))}\n`);
    expect(result.code).toBe(0);
    expect(existsSync(`${warehouse}.tmp`)).toBe(false);
    expect((await view(warehouse)).rows.size).toBe(1);
  });
});

describe('load killed with SIGKILL and run again', () => {
  let wholeRecords: number;
  const recordsLoaded = (stdout: string) => Number(/^Loaded ([\d,]+) records/.exec(stdout)?.[1]?.replace(/,/g, ''));

  beforeAll(async () => {
    const result = await run(['load', '--config', config, '--warehouse', `duckdb:${join(dir, 'whole.duckdb')}`]);
    wholeRecords = recordsLoaded(result.stdout);
  });

  // Killed once it is reading, before any commit; after its first commit; after its third.
  it.each([0, 1, 3])('killed after %i commits, the next load goes on from the last commit and ends equal to Stripe', async (commits) => {
    const warehouse = join(dir, `killed-${commits}.duckdb`);
    await control(sim, 'faults', { latency_ms: 40 });
    const before = await requestsServed();
    // Small batches, so that the load commits many times; its debug log tells of each commit.
    const child = start(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`, '--batch-records', '200'], undefined, 'debug');
    const done = finish(child);
    let seen = 0;
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString().split('"msg":"committed"').length - 1;
      if (seen >= commits && commits > 0) child.kill('SIGKILL');
    });
    if (commits === 0) {
      while ((await requestsServed()) === before) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGKILL');
    }
    const killed = await done;
    await control(sim, 'faults', { latency_ms: 0 });
    expect(killed.code).toBeNull();
    const committed = existsSync(warehouse) ? (await view(warehouse)).states.size : 0;
    if (commits === 0) expect(committed).toBe(0);
    else expect(committed).toBeGreaterThan(0);

    const again = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    expect(again.code).toBe(0);
    // It went on from the committed states rather than starting over.
    if (commits > 0) expect(recordsLoaded(again.stdout)).toBeLessThan(wholeRecords);
    const comparison = await compareWithTruth(sim, (await view(warehouse)).rows);
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
  });
});

describe('write', () => {
  let messages: string[];
  beforeAll(async () => {
    const catalog = join(dir, 'catalog.json');
    writeFileSync(catalog, JSON.stringify({ streams: ['customers', 'charges', 'payouts'].map((name) => ({ stream: { name }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' })) }));
    const read = await run(['read', '--config', config, '--catalog', catalog]);
    messages = read.stdout.split('\n').filter(Boolean);
  });

  it("loads read's messages, and echoes every STATE once what came before it is committed", async () => {
    const warehouse = join(dir, 'write.duckdb');
    const result = await run(['write', '--warehouse', `duckdb:${warehouse}`], `${messages.join('\n')}\n`);
    expect(result.code).toBe(0);
    const echoed = result.stdout.split('\n').filter(Boolean);
    expect(echoed).toEqual(messages.filter((m) => m.startsWith('{"type":"STATE"')));
    const { rows, states } = await view(warehouse);
    const records = messages.filter((m) => m.startsWith('{"type":"RECORD"'));
    expect(rows.size).toBe(new Set(records.map(recordKey)).size);
    expect([...states.keys()].sort()).toEqual(['charges', 'customers', 'payouts']);
  });

  it('reads a file given as its stdin as it reads a pipe', async () => {
    const input = join(dir, 'messages.ndjson');
    writeFileSync(input, `${messages.join('\n')}\n`);
    expect(statSync(input).size).toBeGreaterThan(2 * 2 ** 20);
    const warehouse = join(dir, 'from-file.duckdb');
    const result = await finish(startCli(['write', '--warehouse', `duckdb:${warehouse}`], { inputFile: input }));
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(messages.filter((m) => m.startsWith('{"type":"STATE"')));
    const { rows } = await view(warehouse);
    expect(new Set(rows.keys())).toEqual(new Set(messages.filter((m) => m.startsWith('{"type":"RECORD"')).map(recordKey)));
  });

  it('fed an input cut in the middle of a message, fails saying so, and commits nothing after the last committed state', async () => {
    const warehouse = join(dir, 'truncated.duckdb');
    const text = `${messages.join('\n')}\n`;
    const cut = text.slice(0, Math.floor(text.length * 0.6));
    // Small batches, so that some commit before the cut and some records after them do not.
    const result = await run(['write', '--warehouse', `duckdb:${warehouse}`, '--batch-records', '200'], cut);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/The input ends in the middle of a message \(line \d+\): it was cut short\. Nothing after the last committed STATE was written\./);
    const echoed = result.stdout.split('\n').filter((l) => l.startsWith('{"type":"STATE"'));
    expect(echoed.length).toBeGreaterThan(1);
    const { rows, states } = await view(warehouse);
    // The warehouse holds exactly the states it echoed as committed…
    const lastEchoed = new Map(echoed.map((line) => { const s = (JSON.parse(line) as Message).state as { stream: { stream_descriptor: { name: string }; stream_state: unknown } }; return [s.stream.stream_descriptor.name, s.stream.stream_state]; }));
    expect(new Map([...states].map(([k, v]) => [k, v as unknown]))).toEqual(lastEchoed);
    // …and exactly the records that came before the last of them.
    const whole = cut.split('\n').slice(0, -1);
    const committed = whole.slice(0, whole.lastIndexOf(echoed.at(-1) as string)).filter((m) => m.startsWith('{"type":"RECORD"'));
    const keys = new Set(committed.map(recordKey));
    expect(committed.length).toBeLessThan(whole.filter((m) => m.startsWith('{"type":"RECORD"')).length);
    expect(new Set(rows.keys())).toEqual(keys);
  });

  it('refuses a --duckdb-memory-limit that is not a size, before opening the warehouse', async () => {
    const warehouse = join(dir, 'limit.duckdb');
    const result = await run(['write', '--warehouse', `duckdb:${warehouse}`, '--duckdb-memory-limit', 'lots'], `${messages.join('\n')}\n`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--duckdb-memory-limit lots: give a size such as 256MB or 2GB.');
    expect(existsSync(warehouse)).toBe(false);
  });

  it('reads memory limits as DuckDB writes them, loads under a small one, and says so when one is too small', async () => {
    expect([sizeInBytes('256MB'), sizeInBytes('2GiB'), sizeInBytes('1.5 gb'), sizeInBytes('64KiB')]).toEqual([256e6, 2 * 2 ** 30, 1.5e9, 65_536]);
    expect([sizeInBytes('lots'), sizeInBytes('256'), sizeInBytes('MB')]).toEqual([null, null, null]);
    const input = `${messages.join('\n')}\n`;
    const small = join(dir, 'small-limit.duckdb');
    expect((await run(['write', '--warehouse', `duckdb:${small}`, '--duckdb-memory-limit', '128MiB'], input)).code).toBe(0);
    expect(new Set((await view(small)).rows.keys())).toEqual(new Set(messages.filter((m) => m.startsWith('{"type":"RECORD"')).map(recordKey)));
    // Too small for DuckDB to read a batch: a clear failure, and nothing of the batch committed.
    const tiny = join(dir, 'tiny-limit.duckdb');
    const result = await run(['write', '--warehouse', `duckdb:${tiny}`, '--duckdb-memory-limit', '48MiB'], input);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/DuckDB ran out of memory within its limit of 48MiB while committing a batch of \d+ records, and committed none of it\. Give it more with --duckdb-memory-limit/);
    expect((await view(tiny)).rows.size).toBe(0);
  });

  it('fed no messages at all, says so, creates no warehouse file, and succeeds', async () => {
    const warehouse = join(dir, 'nothing.duckdb');
    for (const input of ['', '\n\n']) {
      const result = await run(['write', '--warehouse', `duckdb:${warehouse}`], input);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('"msg":"No messages on stdin: nothing was loaded. write loads the messages that `stripe-elt read` prints, piped to it."');
      expect(readdirSync(dir).filter((f) => f.startsWith('nothing.duckdb'))).toEqual([]);
    }
  });

  it('fed a line that is not a message, fails naming the line', async () => {
    const warehouse = join(dir, 'invalid.duckdb');
    const broken = [...messages.slice(0, 10), 'this is not json', ...messages.slice(10)];
    const result = await run(['write', '--warehouse', `duckdb:${warehouse}`], `${broken.join('\n')}\n`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Line 11 of the input is not an Airbyte message \(.*\); nothing after the last committed STATE was written\./);
    const { rows } = await view(warehouse);
    expect(rows.size).toBe(0);
  });
});

describe('reset', () => {
  it('asks for --yes, then drops the stream and its state', async () => {
    const warehouse = join(dir, 'reset.duckdb');
    expect((await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`])).code).toBe(0);
    const refused = await run(['reset', '--warehouse', `duckdb:${warehouse}`, '--stream', 'customers']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('reset drops the raw data and state of customers in duckdb:');
    expect(refused.stderr).toContain('Run it again with --yes to go ahead.');
    expect((await view(warehouse)).states.has('customers')).toBe(true);
    const done = await run(['reset', '--warehouse', `duckdb:${warehouse}`, '--stream', 'customers', '--yes']);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('Dropped the raw data and state of customers');
    const after = await view(warehouse);
    expect(after.states.has('customers')).toBe(false);
    expect([...after.rows.keys()].some((k) => k.startsWith('customers/'))).toBe(false);
    expect([...after.rows.keys()].some((k) => k.startsWith('charges/'))).toBe(true);
    const unknown = await run(['reset', '--warehouse', `duckdb:${warehouse}`, '--stream', 'widgets', '--yes']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--stream widgets: there is no such stream.');
  });

  it('says there is no warehouse at a path that holds none, and creates nothing there', async () => {
    const misspelled = join(dir, 'stirpe.duckdb');
    const result = await run(['reset', '--warehouse', `duckdb:${misspelled}`, '--yes']);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('Dropped');
    expect(result.stderr).toContain(`There is no stripe-elt warehouse at duckdb:${misspelled}: nothing to reset, and nothing was created. Check --warehouse (and, for BigQuery, --dataset-prefix).`);
    expect(readdirSync(dir).filter((f) => f.startsWith('stirpe'))).toEqual([]);
  });
});
