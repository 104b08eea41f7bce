// `read` when things go wrong: killed mid-way, rate limited, failing, missing permissions,
// a connected account lost mid-run, a cursor older than Stripe keeps events.
import { afterEach, describe, expect, it } from 'vitest';
import { STREAMS, STREAM_NAMES } from '../../connector/streams/catalog.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, truth } from '../simulator-spec/helpers.js';
import { allStreams, applyCompleteBackfills, committedRecords, compareWithTruth, configFor, lastStates, latest, runRead, statusesOf, warnings, type Message, type ReadRun } from './helpers.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('a read killed mid-way', () => {
  it.each([0.15, 0.5, 0.85])('and resumed from its last STATE (killed once %f of its records are committed) ends with the same data', async (at) => {
    sim = await startSimulator({ seed: 'kill', objects: 5000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
    const full = await runRead({ config: configFor(sim) });
    // Cut where that share of the records is committed (how soon STATEs come depends on the
    // machine's pace), in the middle of what follows: some records after the last STATE are lost.
    const stateAt = full.messages.flatMap((m, i) => (m.type === 'STATE' ? [i] : []));
    const enough = stateAt.find((i) => committedRecords(full.messages.slice(0, i + 1)).length >= at * full.records.length) ?? full.messages.length;
    const printed = full.messages.slice(0, Math.min(full.messages.length, enough + 37));
    const committed = committedRecords(printed);
    const resumed = await runRead({ config: configFor(sim), state: lastStates(printed) });
    expect(resumed.error).toBeUndefined();
    const comparison = await compareWithTruth(sim, latest(committed, resumed.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    // It re-reads what was not yet committed and barely more (0 to 8 records in these runs), not
    // everything again: even at the 0.15 cut, re-reading all would break this bound.
    expect(resumed.records.length).toBeLessThanOrEqual(full.records.length - committed.length + 100);
    expect(full.records.length - committed.length + 100).toBeLessThan(full.records.length);
  });
});

describe('rate limits and failures', () => {
  it('under rate-limit pressure, 429s slow the read down and no data is lost', async () => {
    sim = await startSimulator({ seed: 'pressure', objects: 2500, accounts: 2 });
    const run = await runRead({ config: configFor(sim, { max_requests_per_second: 200 }) });
    expect(run.error).toBeUndefined();
    expect(run.summary?.requests.rateLimited).toBeGreaterThan(0);
    const comparison = await compareWithTruth(sim, latest(run.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
  });

  it('500s, lock timeouts and dropped connections are retried, and the data is exact', async () => {
    sim = await startSimulator({ seed: 'faults', objects: 3000, accounts: 2, rateLimits: { test: 0, endpoint: 0 }, faults: { errorRate: 0.15, lockTimeoutRate: 0.05, dropRate: 0.05 } });
    const run = await runRead({ config: configFor(sim) });
    expect(run.error).toBeUndefined();
    expect(run.summary?.requests.retries).toBeGreaterThan(10);
    const comparison = await compareWithTruth(sim, latest(run.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
  });

  it('a Stripe that keeps failing ends the read with a transient error that says to run again', async () => {
    sim = await startSimulator({ seed: 'down', objects: 500, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    await control(sim, 'faults', { error_rate: 1 });
    const run = await runRead({ config: configFor(sim), maxRetryTimeMs: 1500 });
    expect(run.error?.message).toMatch(/^Stripe request failed \(500\).*run again later/);
    expect((run.error as { failureType?: string }).failureType).toBe('transient_error');
  });

  it('a key revoked mid-run ends the read with an authentication error, keeping the state printed so far', async () => {
    sim = await startSimulator({ seed: 'revoke', objects: 3000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
    await fetch(`${sim.url}/_sim/keys`, { method: 'POST', body: JSON.stringify({ definition: 'rk_test_willberevoked=*:read,connect.*:read' }) });
    await control(sim, 'faults', { latency_ms: 5 });
    const running = runRead({ config: configFor(sim, { api_key: 'rk_test_willberevoked' }) });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await control(sim, 'faults', { revoke_keys: ['rk_test_willberevoked'] });
    const run = await running;
    expect(run.error?.message).toMatch(/^Authentication failed: Stripe rejected the API key/);
    expect(run.error?.message).not.toContain('rk_test_willberevoked');
    expect(run.records.length).toBeGreaterThan(0);
    // The state printed before the failure holds: a run from it with a good key completes the data.
    const state = lastStates(run.messages);
    expect(state.length).toBeGreaterThan(0);
    const resumed = await runRead({ config: configFor(sim), state });
    expect(resumed.error).toBeUndefined();
    const comparison = await compareWithTruth(sim, latest(committedRecords(run.messages), resumed.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
  });
});

describe('permissions and accounts', () => {
  it('a stream the key may not read is skipped with a warning naming the permission, and marked INCOMPLETE', async () => {
    sim = await startSimulator({ seed: 'perm', objects: 2000, accounts: 2, rateLimits: { test: 0, endpoint: 0 }, keys: ['rk_test_nocharges=*:read,charges:none,connect.*:read,connect.charges:none'] });
    const run = await runRead({ config: configFor(sim, { api_key: 'rk_test_nocharges' }) });
    expect(run.error).toBeUndefined();
    expect(statusesOf(run, 'charges')).toEqual(['STARTED', 'INCOMPLETE']);
    expect(statusesOf(run, 'customers')).toEqual(['STARTED', 'RUNNING', 'COMPLETE']);
    expect(warnings(run).some((w) => w.startsWith('Skipped charges:') && w.includes('rak_charge_read'))).toBe(true);
    expect(run.records.some((r) => r.stream === 'charges')).toBe(false);
    const held = latest(run.records);
    const comparison = await compareWithTruth(sim, held);
    expect(comparison.missing.every((k) => k.startsWith('charges/'))).toBe(true);
    expect(comparison.different).toEqual([]);
  });

  it('a key without Connect permissions reads the platform only, and says so', async () => {
    sim = await startSimulator({ seed: 'noconnect', objects: 2000, accounts: 2, rateLimits: { test: 0, endpoint: 0 }, keys: ['rk_test_platformonly=*:read'] });
    const run = await runRead({ config: configFor(sim, { api_key: 'rk_test_platformonly' }) });
    expect(run.error).toBeUndefined();
    expect(warnings(run).some((w) => w.startsWith('Connected accounts are unavailable'))).toBe(true);
    expect(new Set(run.records.map((r) => r.data.account_id)).size).toBe(1);
    expect(statusesOf(run, 'accounts')).toEqual(['STARTED', 'INCOMPLETE']);
    expect(statusesOf(run, 'customers')).toEqual(['STARTED', 'RUNNING', 'COMPLETE']);
  });

  it('a connected account lost mid-run is reported by id, and the others finish', async () => {
    sim = await startSimulator({ seed: 'lost', objects: 4000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    const accounts = (await truth(sim)).filter((l) => l.stream === 'accounts').map((l) => l.id);
    const lost = accounts[1] as string;
    await control(sim, 'faults', { latency_ms: 4 });
    const running = runRead({ config: configFor(sim) });
    await new Promise((resolve) => setTimeout(resolve, 250));
    await control(sim, 'faults', { disconnect_accounts: [lost] });
    const run = await running;
    expect(run.error).toBeUndefined();
    expect([...(run.summary?.failedAccounts.keys() ?? [])]).toEqual([lost]);
    expect(warnings(run).some((w) => w.startsWith(`Connected account ${lost} failed`))).toBe(true);
    expect(statusesOf(run, 'customers').at(-1)).toBe('INCOMPLETE');
    const held = latest(run.records.filter((r) => r.data.account_id !== lost));
    const comparison = await compareWithTruth(sim, held);
    expect(comparison.missing).toEqual([]);
    expect(comparison.different.filter((d) => !d.startsWith('accounts/'))).toEqual([]);
  });

  it('connected_accounts as a list reads just those; an unknown one is reported', async () => {
    sim = await startSimulator({ seed: 'listed', objects: 2000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    const accounts = (await truth(sim)).filter((l) => l.stream === 'accounts').map((l) => l.id);
    const run = await runRead({ config: configFor(sim, { connected_accounts: [accounts[0], 'acct_NotConnected1'] }), streams: allStreams('incremental', ['customers']) });
    expect(run.error).toBeUndefined();
    expect(new Set(run.records.map((r) => r.data.account_id))).toEqual(new Set([run.summary?.platform, accounts[0]]));
    expect(warnings(run).some((w) => w.includes('Connected account acct_NotConnected1 (listed in connected_accounts) is not connected'))).toBe(true);
  });

  it('a test key against data that exists only in live mode reads nothing', async () => {
    sim = await startSimulator({ seed: 'live-only', objects: 1500, accounts: 1, modes: ['live'], rateLimits: { test: 0, endpoint: 0 } });
    const run = await runRead({ config: configFor(sim) });
    expect(run.error).toBeUndefined();
    expect(run.records).toEqual([]);
    const live = await runRead({ config: configFor(sim, { api_key: 'rk_live_simulator' }) });
    expect(live.records.length).toBeGreaterThan(1000);
    expect(live.records.every((r) => r.stream === 'events' || r.stream === 'accounts' || r.data.livemode === true)).toBe(true);
  });
});

describe('a cursor older than Stripe keeps events', () => {
  it('re-reads the affected streams with a warning, and ends with the truth', async () => {
    sim = await startSimulator({ seed: 'stale', objects: 3000, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const first = await runRead({ config: configFor(sim) });
    await control(sim, 'advance', { days: 40 });
    const second = await runRead({ config: configFor(sim), state: first.state });
    expect(second.error).toBeUndefined();
    const stale = warnings(second).filter((w) => w.includes('older than the 30 days of events Stripe keeps'));
    const eventStreams = STREAM_NAMES.filter((name) => STREAMS[name].changes === 'events');
    expect(stale.length).toBe(2 * eventStreams.length);
    const held = latest(first.records, second.records);
    applyCompleteBackfills(held, second.state as Message[]);
    const comparison = await compareWithTruth(sim, held);
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
  });
});
