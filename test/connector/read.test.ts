// `read` against the simulator: a full read equals the truth; an incremental read after time
// passes returns exactly the changes; a read from its own final state costs a few requests.
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamCatalog } from '../../connector/commands/discover.js';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, truth, type TruthLine } from '../simulator-spec/helpers.js';
import { compareWithTruth, configFor, latest, objectKey, protocolErrors, runRead, statusesOf, stripeFields, type ReadRun } from './helpers.js';

describe('a full read', () => {
  let sim: RunningSimulator;
  let run: ReadRun;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 'full-read', objects: 6000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    run = await runRead({ config: configFor(sim) });
  });
  afterAll(() => sim.close());

  it('succeeds', () => {
    expect(run.error).toBeUndefined();
  });

  it('holds every object of every stream and account, as the truth has it', async () => {
    const comparison = await compareWithTruth(sim, latest(run.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
    expect(comparison.matched).toBeGreaterThan(6000);
  });

  it('reads every stream for the platform and for each connected account', async () => {
    const lines = await truth(sim);
    const platform = run.summary?.platform as string;
    const connected = lines.filter((l) => l.stream === 'accounts').map((l) => l.id);
    expect(connected).toHaveLength(3);
    for (const account of [platform, ...connected]) {
      for (const stream of ['customers', 'charges', 'invoices', 'subscriptions', 'balance_transactions', 'payouts', 'events']) {
        expect(run.records.filter((r) => r.stream === stream && r.data.account_id === account).length, `${stream} of ${account}`).toBeGreaterThan(0);
      }
    }
    const accountRecords = run.records.filter((r) => r.stream === 'accounts');
    expect(accountRecords.map((r) => r.data.id).sort()).toEqual([...connected].sort());
    expect(accountRecords.every((r) => r.data.account_id === platform)).toBe(true);
  });

  it('adds account_id, observed_at, and livemode where Stripe has none, and passes Stripe fields unchanged', async () => {
    const lines: TruthLine[] = await truth(sim);
    const sample = run.records.find((r) => r.stream === 'balance_transactions');
    expect(sample?.data.livemode).toBe(false);
    const charge = run.records.find((r) => r.stream === 'charges');
    if (!charge) throw new Error('the read printed no charge');
    const line = lines.find((l) => l.id === charge.data.id);
    const original = line?.object as Record<string, unknown>;
    expect(Object.keys(charge.data).sort()).toEqual([...Object.keys(original), 'account_id', 'observed_at'].sort());
    expect(stripeFields('charges', charge.data)).toEqual(original);
    expect(charge.data.account_id).toBe(line?.account_id);
  });

  it('prints records that validate against the stream schemas of discover', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validators = new Map(streamCatalog().map((s) => [s.name, ajv.compile(s.json_schema)]));
    const problems: string[] = [];
    for (const record of run.records) {
      const validate = validators.get(record.stream);
      const data: unknown = record.data;
      if (validate && !validate(data)) problems.push(`${record.stream} ${record.data.id}: ${JSON.stringify(validate.errors?.[0])}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('prints only messages valid under the Airbyte protocol schema', () => {
    const invalid = run.messages.map(protocolErrors).filter((e) => e !== null);
    expect(invalid.slice(0, 3)).toEqual([]);
  });

  it('reports STARTED, RUNNING and COMPLETE for every stream, and ends with its state', () => {
    for (const stream of STREAM_NAMES) {
      expect(statusesOf(run, stream), stream).toEqual(['STARTED', 'RUNNING', 'COMPLETE']);
    }
    expect(run.state).toHaveLength(STREAM_NAMES.length);
    for (const state of run.state) {
      const accounts = (state as unknown as { stream: { stream_state: { accounts: Record<string, { backfill?: unknown }> } } }).stream.stream_state.accounts;
      for (const partition of Object.values(accounts)) expect(partition.backfill).toBeUndefined();
    }
  });

  // The 2,000-record rule itself is tested in units.test.ts: here the slices' own STATEs come sooner.
  it('never prints more than 2,000 records (and a page) of a stream without a STATE', () => {
    let since = new Map<string, number>();
    for (const m of run.messages) {
      if (m.type === 'RECORD') {
        const stream = (m.record as { stream: string }).stream;
        since.set(stream, (since.get(stream) ?? 0) + 1);
        expect(since.get(stream)).toBeLessThanOrEqual(2000 + 100);
      }
      if (m.type === 'STATE') since = new Map([...since].filter(([s]) => s !== (m.state as { stream: { stream_descriptor: { name: string } } }).stream.stream_descriptor.name));
    }
  });
});

describe('an incremental read', () => {
  let sim: RunningSimulator;
  let first: ReadRun;
  let before: Map<string, TruthLine>;
  let second: ReadRun;
  let after: TruthLine[];
  let newAccounts: string[];

  beforeAll(async () => {
    sim = await startSimulator({ seed: 'incremental', objects: 6000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
    first = await runRead({ config: configFor(sim) });
    before = new Map((await truth(sim)).map((l) => [objectKey(l.stream, l.account_id, l.id), l]));
    newAccounts = (await control<{ new_accounts: string[] }>(sim, 'advance', { days: 25, new_accounts: 1 })).new_accounts;
    second = await runRead({ config: configFor(sim), state: first.state });
    after = await truth(sim);
  });
  afterAll(() => sim.close());

  it('brings the data to the new truth: creations, updates and deletions', async () => {
    expect(second.error).toBeUndefined();
    const comparison = await compareWithTruth(sim, latest(first.records, second.records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
    expect(comparison.unexpected).toEqual([]);
  });

  it('returns exactly the objects that changed, for streams whose changes come from events', () => {
    const lookbackStreams = new Set(['balance_transactions', 'accounts', 'events']);
    const changed = new Set<string>();
    const kinds = { created: 0, updated: 0, deleted: 0 };
    for (const line of after) {
      if (lookbackStreams.has(line.stream)) continue;
      const key = objectKey(line.stream, line.account_id, line.id);
      const old = before.get(key);
      if (old && old.deleted === line.deleted && JSON.stringify(old.object) === JSON.stringify(line.object)) continue;
      changed.add(key);
      kinds[!old ? 'created' : line.deleted ? 'deleted' : 'updated']++;
    }
    // Objects that events of the period are about (a change and its undoing leave no trace in
    // the truth, yet are changes), and the charges of disputes (their flag changes silently).
    const oldEvents = new Set([...before.values()].filter((l) => l.stream === 'events').map((l) => l.id));
    const touched = new Set<string>();
    for (const line of after) {
      if (line.stream !== 'events' || oldEvents.has(line.id)) continue;
      const object = (line.object.data as { object: { id: string; object: string; charge?: string } }).object;
      const stream = `${object.object}s`.replace('entitys', 'entities');
      touched.add(objectKey(stream, line.account_id, object.id));
      if (object.object === 'dispute' && object.charge) touched.add(`charges/${line.account_id}/${object.charge}`);
    }
    const emitted = new Set(second.records.filter((r) => !lookbackStreams.has(r.stream)).map((r) => objectKey(r.stream, r.data.account_id, r.data.id)));
    expect([...emitted].filter((k) => !changed.has(k) && !touched.has(k)).slice(0, 5)).toEqual([]);
    expect([...changed].filter((k) => !emitted.has(k)).slice(0, 5)).toEqual([]);
    expect(kinds.created).toBeGreaterThan(50);
    expect(kinds.updated).toBeGreaterThan(20);
    expect(kinds.deleted).toBeGreaterThan(0);
    const deletions = second.records.filter((r) => r.data.deleted === true);
    expect(deletions.length).toBe(kinds.deleted);
  });

  it('marks deleted objects deleted, each with its last state', () => {
    const truthOf = new Map(after.map((l) => [objectKey(l.stream, l.account_id, l.id), l]));
    const deletions = second.records.filter((r) => r.data.deleted === true && r.stream !== 'accounts');
    expect(deletions.length).toBeGreaterThan(0);
    for (const record of deletions) {
      const line = truthOf.get(objectKey(record.stream, record.data.account_id, record.data.id));
      expect(line?.deleted, record.data.id).toBe(true);
      expect(stripeFields(record.stream, record.data), record.data.id).toEqual(line?.object);
    }
  });

  it('returns the new events and no old ones', () => {
    const old = new Set([...before.values()].filter((l) => l.stream === 'events').map((l) => l.id));
    const events = second.records.filter((r) => r.stream === 'events');
    expect(events.some((e) => old.has(e.data.id))).toBe(false);
    const fresh = after.filter((l) => l.stream === 'events' && !old.has(l.id)).map((l) => l.id).sort();
    expect(events.map((e) => e.data.id).sort()).toEqual(fresh);
  });

  it('backfills a connected account that joined since the last read', () => {
    expect(newAccounts).toHaveLength(1);
    const records = second.records.filter((r) => r.data.account_id === newAccounts[0]);
    expect(records.some((r) => r.stream === 'products')).toBe(true);
    expect(second.records.some((r) => r.stream === 'accounts' && r.data.id === newAccounts[0])).toBe(true);
  });

  it('from its own final state, with nothing changed, makes a handful of requests per account', async () => {
    await control(sim, 'stats/reset', {});
    const third = await runRead({ config: configFor(sim), state: second.state });
    expect(third.error).toBeUndefined();
    const stats = await control<{ by_account: Record<string, number> }>(sim, 'stats');
    const accounts = Object.keys(stats.by_account);
    expect(accounts.length).toBe(4);
    for (const [account, requests] of Object.entries(stats.by_account)) expect(requests, account).toBeLessThanOrEqual(5);
    const changedStreams = new Set(third.records.map((r) => r.stream));
    expect([...changedStreams].sort()).toEqual(['accounts', 'balance_transactions']);
  });
});
