// The Events API: filters, retention, and `advance` producing the events that explain every change.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, listAll, stripeFor, truth, type TruthLine } from './helpers.js';

let sim: RunningSimulator;
let stripe: Stripe;

beforeAll(async () => {
  sim = await startSimulator({ objects: 3000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
  stripe = stripeFor(sim);
});
afterAll(() => sim.close());

describe('filters', () => {
  it('type takes one name or a wildcard group', async () => {
    const all = await listAll(stripe.events.list({ limit: 100 }));
    const created = await listAll(stripe.events.list({ limit: 100, type: 'customer.created' }));
    expect(created.length).toBe(all.filter((e) => e.type === 'customer.created').length);
    expect(created.length).toBeGreaterThan(0);
    const group = await listAll(stripe.events.list({ limit: 100, type: 'customer.*' }));
    expect(group.map((e) => e.id).sort()).toEqual(all.filter((e) => e.type.startsWith('customer.')).map((e) => e.id).sort());
    expect(group.some((e) => e.type === 'customer.subscription.updated')).toBe(true);
  });

  it('types takes a list of names', async () => {
    const all = await listAll(stripe.events.list({ limit: 100 }));
    const wanted = ['invoice.paid', 'charge.refunded', 'payout.paid'];
    const some = await listAll(stripe.events.list({ limit: 100, types: wanted }));
    expect(some.map((e) => e.id).sort()).toEqual(all.filter((e) => wanted.includes(e.type)).map((e) => e.id).sort());
  });

  it('type and types together, or more than 20 types, get 400', async () => {
    await expect(stripe.events.list({ type: 'customer.created', types: ['invoice.paid'] })).rejects.toMatchObject({ statusCode: 400 });
    const many = Array.from({ length: 21 }, (_, i) => `customer.t${i}`);
    await expect(stripe.events.list({ types: many })).rejects.toMatchObject({ statusCode: 400, param: 'types' });
  });

  it('created filters events like objects', async () => {
    const all = await listAll(stripe.events.list({ limit: 100 }));
    const middle = all[Math.floor(all.length / 2)]?.created as number;
    const recent = await listAll(stripe.events.list({ limit: 100, created: { gt: middle } }));
    expect(recent.length).toBe(all.filter((e) => e.created > middle).length);
  });

  it('an event from a connected account names that account', async () => {
    const [account] = (await stripe.accounts.list()).data;
    const events = await stripe.events.list({ limit: 5 }, { stripeAccount: account?.id as string });
    expect(events.data.length).toBeGreaterThan(0);
    for (const event of events.data) expect(event.account).toBe(account?.id);
    const own = await stripe.events.list({ limit: 5 });
    for (const event of own.data) expect(event.account).toBeUndefined();
  });
});

describe('retention', () => {
  it('events are kept 30 days: older ones are neither listed nor retrievable', async () => {
    const local = await startSimulator({ objects: 1500, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
    try {
      const client = stripeFor(local);
      const before = await listAll(client.events.list({ limit: 100 }));
      const now = (await control<{ now: number }>(local, 'info')).now;
      expect(Math.min(...before.map((e) => e.created))).toBeGreaterThanOrEqual(now - 30 * 86_400);
      const oldest = before[before.length - 1] as Stripe.Event;
      await control(local, 'advance', { days: 31 });
      const after = await listAll(client.events.list({ limit: 100 }));
      expect(after.some((e) => e.id === oldest.id)).toBe(false);
      expect(Math.min(...after.map((e) => e.created))).toBeGreaterThanOrEqual(now + 86_400);
      await expect(client.events.retrieve(oldest.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    } finally {
      await local.close();
    }
  });
});

describe('advance', () => {
  it('creates, updates and deletes objects, with an event for every change', async () => {
    const local = await startSimulator({ objects: 6000, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
    try {
      const before = new Map((await truth(local)).map((l) => [`${l.account_id}/${l.id}`, l]));
      const { now: start } = await control<{ now: number }>(local, 'info');
      const summary = await control<{ created: number; updated: number; deleted: number; events: number }>(local, 'advance', { days: 30 });
      expect(summary.created).toBeGreaterThan(0);
      expect(summary.updated).toBeGreaterThan(0);
      expect(summary.deleted).toBeGreaterThan(0);
      const after = await truth(local);
      const events = after.filter((l) => l.stream === 'events' && (l.object.created as number) > start);
      // The newest event about each object, by account.
      const latest = new Map<string, TruthLine['object']>();
      for (const e of events) {
        const object = (e.object.data as { object: { id: string } }).object;
        latest.set(`${e.account_id}/${object.id}`, e.object);
      }
      const unexplained: string[] = [];
      const seen = { created: 0, updated: 0, deleted: 0 };
      for (const line of after) {
        if (line.stream === 'events' || line.stream === 'accounts') continue;
        const key = `${line.account_id}/${line.id}`;
        const old = before.get(key);
        if (old && JSON.stringify(old.object) === JSON.stringify(line.object) && old.deleted === line.deleted) continue;
        // Balance transactions have no events: their status becomes available with time, as in Stripe.
        if (line.stream === 'balance_transactions') continue;
        // A charge's `disputed` flag changes with no charge event; the dispute's events explain it.
        if (line.stream === 'charges' && old && (old.object.disputed as boolean) !== (line.object.disputed as boolean)) {
          const disputed = events.some((e) => (e.object.type as string) === 'charge.dispute.created' && ((e.object.data as { object: { charge: string } }).object.charge === line.id));
          if (disputed) continue;
        }
        seen[!old ? 'created' : line.deleted ? 'deleted' : 'updated']++;
        const event = latest.get(key);
        if (!event) {
          unexplained.push(`${line.stream} ${line.id}: no event`);
          continue;
        }
        if (line.deleted && !(event.type as string).endsWith('.deleted')) unexplained.push(`${line.id}: deleted, last event ${String(event.type)}`);
      }
      expect(unexplained.slice(0, 10)).toEqual([]);
      expect(seen.created).toBeGreaterThan(100);
      expect(seen.updated).toBeGreaterThan(10);
      expect(seen.deleted).toBeGreaterThan(0);
    } finally {
      await local.close();
    }
  });

  it("an event's object is the object's state after the change", async () => {
    const local = await startSimulator({ objects: 2000, accounts: 1 });
    try {
      await control(local, 'advance', { days: 5 });
      const lines = await truth(local);
      const objects = new Map(lines.filter((l) => l.stream !== 'events').map((l) => [l.id, l]));
      const latest = new Map<string, Record<string, unknown>>();
      for (const e of lines.filter((l) => l.stream === 'events')) {
        if (String(e.object.api_version) < '2025-03-31') continue;
        const object = (e.object.data as { object: { id: string } }).object;
        latest.set(object.id, object);
      }
      let compared = 0;
      for (const [id, object] of latest) {
        const current = objects.get(id);
        if (!current || current.stream === 'balance_transactions' || current.stream === 'charges' || current.stream === 'disputes') continue;
        // The truth expands a subscription's discounts; an event holds their ids, as Stripe's do.
        const state = current.stream === 'subscriptions' ? { ...current.object, discounts: (current.object.discounts as { id: string }[]).map((d) => d.id) } : current.object;
        expect(object, id).toEqual(state);
        compared++;
      }
      expect(compared).toBeGreaterThan(50);
    } finally {
      await local.close();
    }
  });

  it('new connected accounts join when asked, with their own data', async () => {
    const local = await startSimulator({ objects: 1500, accounts: 1 });
    try {
      const summary = await control<{ new_accounts: string[] }>(local, 'advance', { days: 10, new_accounts: 2 });
      expect(summary.new_accounts.length).toBeGreaterThanOrEqual(2);
      const client = stripeFor(local);
      const listed = (await client.accounts.list({ limit: 100 })).data.map((a) => a.id);
      for (const id of summary.new_accounts) {
        expect(listed).toContain(id);
        const products = await client.products.list({}, { stripeAccount: id });
        expect(products.data.length).toBeGreaterThan(0);
      }
    } finally {
      await local.close();
    }
  });
});
