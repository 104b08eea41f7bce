// Incremental reads that must stay exact when something around them changes: connected accounts
// that leave, a backfill stopped half-way while time passes, a key that may not fetch some of an
// account's event objects again, a key without Read on events, a start_date moved earlier.
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, truth } from '../simulator-spec/helpers.js';
import { committedRecords, compareWithTruth, configFor, lastStates, latest, runRead, warnings, type ReadRun } from './helpers.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function connectedIds(s: RunningSimulator): Promise<string[]> {
  return (await truth(s)).filter((l) => l.stream === 'accounts').map((l) => l.id);
}

/** Keys of a comparison that concern none of these accounts. */
function without(keys: readonly string[], ...accounts: readonly string[]): string[] {
  return keys.filter((key) => !accounts.some((account) => key.includes(`/${account}/`)));
}

type PartitionView = { backfill?: { done: [number, number][] }; events?: { cursor: number }; created_cursor?: number };

function partitions(run: ReadRun, stream: string): Record<string, PartitionView> {
  const message = run.state.find((s) => (s as unknown as { stream: { stream_descriptor: { name: string } } }).stream.stream_descriptor.name === stream);
  return (message as unknown as { stream: { stream_state: { accounts: Record<string, PartitionView> } } } | undefined)?.stream.stream_state.accounts ?? {};
}

describe('connected accounts that leave', () => {
  it('a listed account no longer connected is named and skipped, and the platform and the other accounts still get every change', async () => {
    sim = await startSimulator({ seed: 'listed-gone', objects: 4000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    const [a0, a1, a2] = (await connectedIds(sim)) as [string, string, string];
    const config = configFor(sim, { connected_accounts: [a0, a1] });
    const first = await runRead({ config });
    await control(sim, 'faults', { disconnect_accounts: [a1] });
    const advanced = await control<{ updated: number; deleted: number; created: number }>(sim, 'advance', { days: 10 });
    expect(advanced.updated).toBeGreaterThan(20);
    const second = await runRead({ config, state: first.state });
    expect(second.error).toBeUndefined();
    expect(warnings(second)).toContain(
      `Connected account ${a1} (listed in connected_accounts) is not connected to the platform ${second.summary?.platform}, or does not exist: it was not read. Remove it from connected_accounts, or connect it again.`,
    );
    expect(second.summary?.failedAccounts.get(a1)).toBe('is not connected');
    expect(second.summary?.incomplete.get('customers')).toContain(`connected account ${a1} is not connected`);
    // The platform and a0 are exact: their events pass ran (a2 was never asked for, a1 is gone).
    const comparison = await compareWithTruth(sim, latest(first.records, second.records));
    expect(without(comparison.missing, a1, a2)).toEqual([]);
    expect(without(comparison.different, a1, a2)).toEqual([]);
    const platform = second.summary?.platform as string;
    const updatedCustomers = second.records.filter((r) => r.stream === 'customers' && (r.data.account_id === platform || r.data.account_id === a0));
    expect(updatedCustomers.length).toBeGreaterThan(0);
  });

  it('with "all", an account read before that disconnects is named once, its data kept, and read again once it reconnects', async () => {
    sim = await startSimulator({ seed: 'all-gone', objects: 4000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    const [, a1] = (await connectedIds(sim)) as [string, string, string];
    const config = configFor(sim);
    const first = await runRead({ config });
    await control(sim, 'faults', { disconnect_accounts: [a1] });
    await control(sim, 'advance', { days: 10 });
    const second = await runRead({ config, state: first.state });
    expect(second.error).toBeUndefined();
    const platform = second.summary?.platform as string;
    const named = `Connected account ${a1}, read before, is no longer connected to the platform ${platform} (deauthorized or deleted): its data stays as last read and is no longer updated.`;
    expect(warnings(second)).toContain(named);
    expect(second.summary?.incomplete.get('charges')).toContain(`connected account ${a1} is no longer connected`);
    expect(second.records.some((r) => r.data.account_id === a1 && r.stream !== 'accounts')).toBe(false);
    const comparison = await compareWithTruth(sim, latest(first.records, second.records));
    expect(without(comparison.missing, a1)).toEqual([]);
    expect(without(comparison.different, a1)).toEqual([]);
    // Named once: the next run knows, and is complete.
    const third = await runRead({ config, state: second.state });
    expect(warnings(third).filter((w) => w.includes(a1))).toEqual([]);
    expect(third.summary?.incomplete.size).toBe(0);
    // Reconnected, it goes on from where it stopped, changes made meanwhile included.
    await control(sim, 'faults', { reconnect_accounts: [a1] });
    await control(sim, 'advance', { days: 1 });
    const fourth = await runRead({ config, state: third.state });
    expect(fourth.summary?.incomplete.size).toBe(0);
    const again = await compareWithTruth(sim, latest(first.records, second.records, third.records, fourth.records));
    expect(again.missing).toEqual([]);
    expect(again.different).toEqual([]);
  });
});

describe('a backfill stopped half-way', () => {
  it('resumed after time passed, reads balance transactions up to the new run, not only to the first run', async () => {
    sim = await startSimulator({ seed: 'resume-bt', objects: 5000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
    const full = await runRead({ config: configFor(sim) });
    // Stop right after a STATE in which balance transactions are partly read on some account.
    const cut = full.messages.findIndex((m) => {
      if (m.type !== 'STATE') return false;
      const stream = (m.state as { stream: { stream_descriptor: { name: string }; stream_state: { accounts: Record<string, PartitionView> } } }).stream;
      return stream.stream_descriptor.name === 'balance_transactions' && Object.values(stream.stream_state.accounts).some((p) => (p.backfill?.done.length ?? 0) > 0);
    });
    expect(cut).toBeGreaterThan(0);
    const printed = full.messages.slice(0, cut + 1);
    const advanced = await control<{ created: number }>(sim, 'advance', { days: 3 });
    expect(advanced.created).toBeGreaterThan(50);
    const resumed = await runRead({ config: configFor(sim), state: lastStates(printed) });
    expect(resumed.error).toBeUndefined();
    const comparison = await compareWithTruth(sim, latest(committedRecords(printed), resumed.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
  });
});

describe('an account whose events come at an older API version', () => {
  it('one event object the key may not fetch again (a dispute) leaves that stream incomplete, and every other stream exact with its cursor moved on', async () => {
    sim = await startSimulator({
      seed: 'no-disputes',
      objects: 8000,
      accounts: 2,
      rateLimits: { test: 0, endpoint: 0 },
      keys: ['rk_test_nodisputes=*:read,disputes:none,connect.*:read,connect.disputes:none'],
    });
    const config = configFor(sim, { api_key: 'rk_test_nodisputes' });
    const first = await runRead({ config });
    expect(first.summary?.incomplete.has('disputes')).toBe(true);
    const oldEvents = new Set((await truth(sim)).filter((l) => l.stream === 'events').map((l) => l.id));
    await control(sim, 'advance', { days: 25 });
    const now = (await control<{ now: number }>(sim, 'info')).now;
    const disputeEvents = (await truth(sim)).filter((l) => l.stream === 'events' && !oldEvents.has(l.id) && String(l.object.type).startsWith('charge.dispute.'));
    expect(disputeEvents.length).toBeGreaterThan(0);
    // Every event of the period is rendered at an older version than ours: each is fetched again.
    expect(disputeEvents.every((l) => l.object.api_version !== '2026-10-28.endive')).toBe(true);
    const second = await runRead({ config, state: first.state });
    expect(second.error).toBeUndefined();
    expect([...(second.summary?.incomplete.keys() ?? [])]).toEqual(['disputes']);
    const comparison = await compareWithTruth(sim, latest(first.records, second.records));
    expect(comparison.missing.filter((k) => !k.startsWith('disputes/'))).toEqual([]);
    expect(comparison.different.filter((k) => !k.startsWith('disputes/'))).toEqual([]);
    for (const [account, partition] of Object.entries(partitions(second, 'customers'))) expect(partition.events?.cursor, account).toBe(now);
  });
});

describe('a key without Read on events', () => {
  it('loads the first time, then says every stream that relies on events is incomplete, keeping their cursors', async () => {
    sim = await startSimulator({ seed: 'no-events', objects: 3000, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, keys: ['rk_test_noevents=*:read,events:none,connect.*:read,connect.events:none'] });
    const config = configFor(sim, { api_key: 'rk_test_noevents' });
    const first = await runRead({ config });
    expect(first.error).toBeUndefined();
    // Even the first run cannot know what changed while it read.
    expect(first.summary?.incomplete.has('customers')).toBe(true);
    const cursors = partitions(first, 'customers');
    await control(sim, 'advance', { days: 5 });
    const second = await runRead({ config, state: first.state });
    expect(second.error).toBeUndefined();
    const platform = second.summary?.platform as string;
    for (const stream of ['customers', 'charges', 'invoices', 'subscriptions']) {
      expect(second.summary?.incomplete.get(stream as never), stream).toContain(`its updates and deletions on the platform ${platform} could not be read: the key may not read events`);
    }
    expect(warnings(second).some((w) => w.startsWith(`Changes on the platform ${platform} since the last sync could not be read: the key may not read events`) && w.includes('rak_event_read'))).toBe(true);
    // Nothing is lost once the key may read events: the cursors stayed where they were.
    const before = Object.entries(cursors);
    expect(before.length).toBe(2);
    for (const [account, partition] of before) expect(partitions(second, 'customers')[account]?.events?.cursor, account).toBe(partition.events?.cursor);
  });
});

describe('start_date moved earlier', () => {
  it('reads the newly covered range on the next run, saying so', async () => {
    sim = await startSimulator({ seed: 'earlier', objects: 3000, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const first = await runRead({ config: configFor(sim, { start_date: '2026-06-01' }) });
    const firstOldest = Math.min(...first.records.filter((r) => r.stream === 'charges').map((r) => r.data.created as number));
    expect(firstOldest).toBeGreaterThanOrEqual(Date.UTC(2026, 5, 1) / 1000);
    const second = await runRead({ config: configFor(sim, { start_date: '2025-01-01' }), state: first.state });
    expect(second.error).toBeUndefined();
    expect(warnings(second).some((n) => n.startsWith('start_date 2025-01-01 is earlier than what was read before: reading the newly covered range of ') && n.includes('charges'))).toBe(true);
    expect(second.records.filter((r) => r.stream === 'charges').every((r) => (r.data.created as number) < Date.UTC(2026, 5, 1) / 1000)).toBe(true);
    // Now everything since the simulated business began (2025-09-27) is there, as in Stripe.
    const comparison = await compareWithTruth(sim, latest(first.records, second.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    // And a third run does not read that range again.
    const third = await runRead({ config: configFor(sim, { start_date: '2025-01-01' }), state: second.state });
    expect(third.records.filter((r) => r.stream === 'charges')).toEqual([]);
  });
});

describe('one platform per state', () => {
  it("read refuses the state of another platform before reading anything, naming both", async () => {
    sim = await startSimulator({ seed: 'state-a', objects: 500, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    const first = await runRead({ config: configFor(sim), streams: [{ name: 'customers', syncMode: 'incremental' }] });
    const platform = first.summary?.platform as string;
    const other = await startSimulator({ seed: 'state-b', objects: 500, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    try {
      const otherPlatform = (await control<{ platform: string }>(other, 'info')).platform;
      const run = await runRead({ config: configFor(other), streams: [{ name: 'customers', syncMode: 'incremental' }], state: first.state });
      expect(run.error?.message).toBe(
        `The state of customers is of another platform (${platform}) than the key's, ${otherPlatform}: one state (and one warehouse) per platform. Use the state of ${otherPlatform}'s runs, or start without it.`,
      );
      expect(run.records).toEqual([]);
      expect((await control<{ by_endpoint: Record<string, number> }>(other, 'stats')).by_endpoint).toEqual({ 'GET /v1/account': 1 });
    } finally {
      await other.close();
    }
  });
});

describe('balance transactions held up to 31 days', () => {
  it('turn from pending to available in the data after each run, whatever the payout delay and the lookback window', async () => {
    sim = await startSimulator({ seed: 'payout-delays', objects: 4000, accounts: 2, payoutDelayDays: [31, 14], rateLimits: { test: 0, endpoint: 0 } });
    const config = configFor(sim, { lookback_window_days: 2 });
    const runs = [await runRead({ config })];
    for (const days of [5, 12, 20]) {
      await control(sim, 'advance', { days });
      const run = await runRead({ config, state: (runs.at(-1) as ReadRun).state });
      expect(run.error).toBeUndefined();
      runs.push(run);
      const held = latest(...runs.map((r) => r.records));
      const comparison = await compareWithTruth(sim, held);
      expect(comparison.missing, `after ${days} days`).toEqual([]);
      expect(comparison.different, `after ${days} days`).toEqual([]);
    }
    // The long delays were really there: some transactions stayed pending across a run.
    const pendingFirst = runs[0]?.records.filter((r) => r.stream === 'balance_transactions' && r.data.status === 'pending').map((r) => r.data.id) ?? [];
    expect(pendingFirst.length).toBeGreaterThan(10);
  });
});
