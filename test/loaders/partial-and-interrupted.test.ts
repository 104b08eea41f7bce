// How runs end when they cannot read everything, or are asked to stop: a partial run keeps what
// it read and exits 3 (0 with --allow-partial), and SIGINT/SIGTERM stop at the next page with
// what was read kept, so that a re-run ends equal to Stripe.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { compareWithTruth, configFor, lastStates, latest, type Data, type Message } from '../connector/helpers.js';
import { finishCli, startCli } from '../cli-process.js';
import { warehouseView, withDuckDB } from './warehouses.js';

let sim: RunningSimulator;
let dir: string;
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};
const run = (args: readonly string[], options: { input?: string; logLevel?: string } = {}) => finishCli(startCli(args, options));

const rows = (path: string) => withDuckDB(path, warehouseView);

beforeAll(async () => {
  sim = await startSimulator({ seed: 'partial', objects: 3000, accounts: 2, rateLimits: { test: 0, endpoint: 0 }, keys: ['rk_test_nopayouts=*:read,payouts:none,connect.*:read', 'rk_test_noevents=*:read,events:none,connect.*:read,connect.events:none'] });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-partial-'));
});
afterAll(() => sim.close());

describe('a partial run', () => {
  it('load with a stream the key may not read: commits the rest, says so once, and exits 3; with --allow-partial, 0', async () => {
    const config = file('nopayouts.json', configFor(sim, { api_key: 'rk_test_nopayouts' }));
    const warehouse = join(dir, 'partial.duckdb');
    const partial = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    expect(partial.code).toBe(3);
    expect(partial.stdout).toContain('payouts is incomplete: the key may not read payouts');
    expect(partial.stdout).toContain('The load is partial (above): it exits with code 3, so that a scheduler notices; --allow-partial accepts such loads.');
    // The warning, once on stderr (not again through the progress, nor per account).
    expect(partial.stderr.split('Skipped payouts').length - 1).toBe(1);
    const held = await rows(warehouse);
    const comparison = await compareWithTruth(sim, held);
    expect(comparison.missing.filter((k) => !k.startsWith('payouts/'))).toEqual([]);
    const accepted = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`, '--allow-partial']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('The load is partial (above), as --allow-partial accepts.');
  });

  it('read exits 3 when a listed connected account is not connected, and write exits 3 when its input says a stream is incomplete', async () => {
    const config = file('unknown-account.json', configFor(sim, { connected_accounts: ['acct_NotConnected1'] }));
    const catalog = file('customers.json', { streams: [{ stream: { name: 'customers' }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' }] });
    const read = await run(['read', '--config', config, '--catalog', catalog]);
    expect(read.code).toBe(3);
    const messages = read.stdout.split('\n').filter(Boolean);
    expect(messages.some((m) => m.includes('"status":"INCOMPLETE"'))).toBe(true);
    const written = await run(['write', '--warehouse', `duckdb:${join(dir, 'written.duckdb')}`], { input: `${messages.join('\n')}\n` });
    expect(written.code).toBe(3);
    expect(written.stderr).toContain('The source reported customers incomplete; what it read was loaded.');
    expect((await run(['read', '--config', config, '--catalog', catalog, '--allow-partial'])).code).toBe(0);
  });
});

describe('a partial run, of what only a second run can see', () => {
  it('load exits 3 when a connected account loaded before is no longer connected, naming it; and again once it is back, 0', async () => {
    const config = file('accounts-all.json', configFor(sim));
    const warehouse = join(dir, 'left.duckdb');
    expect((await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`])).code).toBe(0);
    const accounts = (await control<{ modes: { test: { connected_accounts: { id: string }[] } } }>(sim, 'info')).modes.test.connected_accounts.map((a) => a.id);
    const leaving = accounts[0] as string;
    await control(sim, 'faults', { disconnect_accounts: [leaving] });
    try {
      const partial = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
      expect(partial.code, partial.stdout).toBe(3);
      expect(partial.stderr).toContain(`Connected account ${leaving}, read before, is no longer connected to the platform`);
      expect(partial.stdout).toContain('The load is partial (above): it exits with code 3');
    } finally {
      await control(sim, 'faults', { reconnect_accounts: [leaving] });
    }
    expect((await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`])).code).toBe(0);
  });

  it('load exits 3 on every incremental run of a key that may not read events, naming the permission', async () => {
    const config = file('noevents.json', configFor(sim, { api_key: 'rk_test_noevents' }));
    const warehouse = join(dir, 'noevents.duckdb');
    const first = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    expect(first.code).toBe(3);
    const second = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    expect(second.code).toBe(3);
    expect(second.stdout).toContain('The load is partial (above): it exits with code 3');
    expect(second.stderr).toContain('rak_event_read');
  });
});

describe('a run asked to stop', () => {
  it('load on SIGINT commits what it read, says a re-run goes on, and exits 130; the re-run ends equal to Stripe', async () => {
    const config = file('full.json', configFor(sim));
    const warehouse = join(dir, 'interrupted.duckdb');
    await control(sim, 'faults', { latency_ms: 30 });
    const child = startCli(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`, '--batch-records', '200'], { logLevel: 'debug' });
    const done = finishCli(child);
    let signalled = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!signalled && chunk.toString().includes('"msg":"committed"')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const stopped = await done;
    await control(sim, 'faults', { latency_ms: 0 });
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('SIGINT: stopping at the next page, and committing what was read.');
    expect(stopped.stdout).toContain('Stopped before the end: everything read until then is committed. Run the same command again to go on from there.');
    const loaded = Number(/^Loaded ([\d,]+) records/.exec(stopped.stdout)?.[1]?.replace(/,/g, ''));
    expect(loaded).toBeGreaterThan(0);
    // Everything it says it loaded is in the file.
    expect((await rows(warehouse)).size).toBeGreaterThan(0);
    const again = await run(['load', '--config', config, '--warehouse', `duckdb:${warehouse}`]);
    expect(again.code).toBe(0);
    const comparison = await compareWithTruth(sim, await rows(warehouse));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
  });

  it('read on SIGTERM prints the state of every record it printed and exits 143; read again from it, the data is whole', async () => {
    const config = file('full-read.json', configFor(sim));
    const catalog = file('all.json', { streams: ['customers', 'charges', 'invoices', 'balance_transactions', 'events'].map((name) => ({ stream: { name }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' })) });
    await control(sim, 'faults', { latency_ms: 30 });
    const child = startCli(['read', '--config', config, '--catalog', catalog]);
    const done = finishCli(child);
    let records = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      const before = records;
      records += chunk.toString().split('"type":"RECORD"').length - 1;
      if (before < 300 && records >= 300) child.kill('SIGTERM'); // once: a second signal ends it at once
    });
    const stopped = await done;
    await control(sim, 'faults', { latency_ms: 0 });
    expect(stopped.code).toBe(143);
    const messages = stopped.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Message);
    // The last line of each stream's records is followed by its STATE: nothing printed is uncovered.
    const lastRecord = new Map<string, number>();
    const lastState = new Map<string, number>();
    messages.forEach((m, i) => {
      if (m.type === 'RECORD') lastRecord.set((m.record as { stream: string }).stream, i);
      if (m.type === 'STATE') lastState.set((m.state as { stream: { stream_descriptor: { name: string } } }).stream.stream_descriptor.name, i);
    });
    for (const [stream, at] of lastRecord) expect(lastState.get(stream) ?? -1, stream).toBeGreaterThan(at);
    const statePath = file('stopped-state.json', lastStates(messages));
    const resumed = await run(['read', '--config', config, '--catalog', catalog, '--state', statePath]);
    expect(resumed.code).toBe(0);
    const records2 = (out: readonly Message[]) => out.filter((m) => m.type === 'RECORD').map((m) => m.record as { stream: string; data: Data });
    const resumedMessages = resumed.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Message);
    const comparison = await compareWithTruth(sim, latest(records2(messages), records2(resumedMessages)));
    const selected = (k: string) => ['customers/', 'charges/', 'invoices/', 'balance_transactions/'].some((p) => k.startsWith(p));
    expect(comparison.missing.filter(selected)).toEqual([]);
    expect(comparison.different.filter(selected)).toEqual([]);
  });
});
