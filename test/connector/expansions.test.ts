// A stream that holds some fields expanded (subscriptions: `discounts`, which name their coupon
// only when expanded): its lists and retrieves ask for the expansion, and an event about one of
// its objects always fetches the object again, since an event's copy is never expanded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../connector/stripe/client.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, truth, type TruthLine } from '../simulator-spec/helpers.js';
import { allStreams, configFor, runRead, stripeFields, warnings, type ReadRun } from './helpers.js';

const STREAMS = allStreams('incremental', ['customers', 'coupons', 'subscriptions', 'events']);

type PartitionView = { events?: { cursor: number } };

function eventCursors(run: ReadRun, stream: string): Record<string, number | undefined> {
  const message = run.state.find((s) => (s as unknown as { stream: { stream_descriptor: { name: string } } }).stream.stream_descriptor.name === stream);
  const accounts = (message as unknown as { stream: { stream_state: { accounts: Record<string, PartitionView> } } }).stream.stream_state.accounts;
  return Object.fromEntries(Object.entries(accounts).map(([account, partition]) => [account, partition.events?.cursor]));
}

let sim: RunningSimulator;
let first: ReadRun;
/** A connected account whose events are rendered at our API version: their objects could be printed as they are. */
let account: string;
/** Two of its subscriptions with a discount, whose metadata changes after the first read. */
let changed: string[];

beforeAll(async () => {
  sim = await startSimulator({
    seed: 'expansions',
    objects: 9000,
    accounts: 3,
    rateLimits: { test: 0, endpoint: 0 },
    keys: ['rk_test_nosubscriptions=*:read,subscriptions:none,connect.*:read,connect.subscriptions:none'],
  });
  first = await runRead({ config: configFor(sim), streams: STREAMS });
  const lines = await truth(sim);
  const current = lines.find((l) => l.stream === 'events' && l.account_id !== lines.find((a) => a.stream === 'accounts')?.account_id && l.object.api_version === STRIPE_API_VERSION);
  account = current?.account_id as string;
  const discounted = lines.filter((l) => l.stream === 'subscriptions' && l.account_id === account && (l.object.discounts as unknown[]).length > 0);
  changed = discounted.slice(0, 2).map((l) => l.id);
  await control(sim, 'advance', { days: 2 });
}, 120_000);
afterAll(() => sim.close());

async function changeSubscriptions(tag: string): Promise<void> {
  await control(sim, 'change', { changes: changed.map((id) => ({ account, stream: 'subscriptions', id, update: { metadata: { tag } } })) });
  await control(sim, 'advance', { seconds: 1 });
}

describe('subscriptions, read with their discounts expanded', () => {
  it('are listed with expanded discounts, each naming its coupon', () => {
    expect(first.error).toBeUndefined();
    const discounts = first.records.filter((r) => r.stream === 'subscriptions').flatMap((r) => r.data.discounts as unknown[]);
    expect(discounts.length).toBeGreaterThan(20);
    expect(discounts.every((d) => typeof (d as { source?: { coupon?: unknown } }).source?.coupon === 'string')).toBe(true);
  });

  it('updated since the last run, are fetched again from their events at our API version, with their discounts expanded: one request each', async () => {
    expect(changed.length).toBe(2);
    await changeSubscriptions('first');
    await control(sim, 'stats/reset', {});
    const second = await runRead({ config: configFor(sim), streams: STREAMS, state: first.state });
    expect(second.error).toBeUndefined();
    expect(second.summary?.incomplete.size).toBe(0);
    const lines = await truth(sim);
    const truthOf = (id: string) => (lines.find((l) => l.stream === 'subscriptions' && l.account_id === account && l.id === id) as TruthLine).object;
    const updated = second.records.filter((r) => r.stream === 'subscriptions' && changed.includes(r.data.id));
    expect(updated.map((r) => r.data.id).sort()).toEqual([...changed].sort());
    for (const record of updated) {
      expect(stripeFields('subscriptions', record.data)).toEqual(truthOf(record.data.id));
      expect((record.data.discounts as { object: string }[]).map((d) => d.object)).toEqual(['discount']);
      expect(record.data.metadata).toEqual({ tag: 'first' });
    }
    const stats = await control<{ by_endpoint: Record<string, number>; by_account: Record<string, number> }>(sim, 'stats');
    // Every subscription changed on any account in those two days is fetched once.
    const fetched = second.records.filter((r) => r.stream === 'subscriptions').length;
    expect(stats.by_endpoint['GET /v1/subscriptions/:id']).toBe(fetched);
    first = second;
  });

  it('when the key may not read them any more, the events pass leaves the stream incomplete on the account, keeping its cursor, and the other streams go on', async () => {
    await changeSubscriptions('second');
    const third = await runRead({ config: configFor(sim, { api_key: 'rk_test_nosubscriptions' }), streams: STREAMS, state: first.state });
    expect(third.error).toBeUndefined();
    expect(third.records.filter((r) => r.stream === 'subscriptions')).toEqual([]);
    expect(third.summary?.incomplete.get('subscriptions')).toContain(`the key may not read subscriptions on connected account ${account}`);
    expect(warnings(third).some((w) => w.startsWith(`Skipped subscriptions on connected account ${account}: the key may not read it`))).toBe(true);
    expect(eventCursors(third, 'subscriptions')[account]).toBe(eventCursors(first, 'subscriptions')[account]);
    const customersAfter = eventCursors(third, 'customers')[account] as number;
    expect(customersAfter).toBeGreaterThan(eventCursors(first, 'customers')[account] as number);
  });

  it('read before without the expansion (a state of an earlier release), are read again in full, saying so once per account', async () => {
    const earlier = structuredClone(first.state) as unknown as { stream: { stream_descriptor: { name: string }; stream_state: { accounts: Record<string, { expanded?: string[] }> } } }[];
    const subscriptions = earlier.find((m) => m.stream.stream_descriptor.name === 'subscriptions');
    const accounts = Object.keys(subscriptions?.stream.stream_state.accounts ?? {});
    expect(accounts.length).toBe(4);
    for (const partition of Object.values(subscriptions?.stream.stream_state.accounts ?? {})) {
      expect(partition.expanded).toEqual(['discounts']);
      delete partition.expanded;
    }
    const run = await runRead({ config: configFor(sim), streams: STREAMS, state: earlier as unknown as ReadRun['state'] });
    expect(run.error).toBeUndefined();
    const notices = warnings(run).filter((w) => w.includes('read before without discounts expanded'));
    expect(notices.map((w) => w.split(':')[0]).sort()).toEqual(accounts.map((a) => `subscriptions of ${a}`).sort());
    const lines = await truth(sim);
    const read = run.records.filter((r) => r.stream === 'subscriptions');
    // (The two changed since are fetched from their events too.)
    expect([...new Set(read.map((r) => `${r.data.account_id as string}/${r.data.id}`))].sort()).toEqual(
      lines.filter((l) => l.stream === 'subscriptions' && !l.deleted).map((l) => `${l.account_id}/${l.id}`).sort(),
    );
    expect(read.flatMap((r) => r.data.discounts as { object: string }[]).every((d) => d.object === 'discount')).toBe(true);
  });
});
