// The event types our webhook endpoints ask for cover every event the simulator sends about an
// object of our streams: those an advance of its world sends (listed through the Events API of the
// platform and of each connected account), and every type its sources name.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_OF_OBJECT } from '../../connector/streams/catalog.js';
import { CONNECT_EVENT_TYPES, EVENT_TYPES_OF_STREAM, PLATFORM_EVENT_TYPES } from '../../connector/webhooks/event-types.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, listAll, stripeFor } from '../simulator-spec/helpers.js';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'webhook-event-types', objects: 3000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
});
afterAll(() => sim.close());

/** The types of the events an account holds that are about an object of one of our streams. */
async function typesAbout(account?: string): Promise<Set<string>> {
  const events = await listAll(stripeFor(sim).events.list({ limit: 100 }, account ? { stripeAccount: account } : {}));
  return new Set(events.filter((event) => STREAM_OF_OBJECT.has((event.data.object as { object?: string }).object ?? '')).map((event) => event.type));
}

describe('the event types of our webhook endpoints', () => {
  it('hold every type of the events the simulator sends about our streams, the platform\'s and the connected accounts\'', async () => {
    const stripe = stripeFor(sim);
    const platformId = (await stripe.accounts.retrieveCurrent()).id;
    // Deletions happen only when asked for: a customer (its subscriptions end first) and a coupon.
    const customer = (await stripe.customers.list({ limit: 1 })).data[0]?.id;
    const coupon = (await stripe.coupons.list({ limit: 1 })).data[0]?.id;
    await control(sim, 'change', { changes: [{ account: platformId, stream: 'customers', id: customer, delete: true }, { account: platformId, stream: 'coupons', id: coupon, delete: true }] });
    // Stripe keeps 30 days of events: the types are gathered after each month of eight.
    const platform = new Set<string>();
    const theirs = new Set<string>();
    for (let month = 0; month < 8; month++) {
      for (const type of await typesAbout()) platform.add(type);
      for (const account of await listAll(stripe.accounts.list({ limit: 100 }))) for (const type of await typesAbout(account.id)) theirs.add(type);
      await control(sim, 'advance', { days: 30 });
    }

    expect([...platform].filter((type) => !PLATFORM_EVENT_TYPES.includes(type as never)).sort()).toEqual([]);
    expect([...theirs].filter((type) => !CONNECT_EVENT_TYPES.includes(type as never)).sort()).toEqual([]);
    // The world sends many kinds of events: a check of a handful would prove little.
    expect(platform.size).toBeGreaterThanOrEqual(25);
    expect(theirs.size).toBeGreaterThanOrEqual(30);
    expect(platform).toContain('customer.deleted');
    expect(theirs).toContain('account.updated');
  });

  it('hold every event type the simulator\'s sources name about an object of our streams', () => {
    const folder = new URL('../simulator/', import.meta.url);
    const named = new Set<string>();
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts'))) {
      for (const [, type] of readFileSync(new URL(file, folder), 'utf8').matchAll(/'([a-z_]+(?:\.[a-z_]+)+)'/g)) {
        if (STREAM_OF_OBJECT.has((type as string).split('.')[0] as string)) named.add(type as string);
      }
    }
    expect([...named].filter((type) => !CONNECT_EVENT_TYPES.includes(type as never)).sort()).toEqual([]);
    expect(named.size).toBeGreaterThanOrEqual(45);
  });

  it('are concrete types, each once, and the platform endpoint asks for no connected account\'s own changes', () => {
    for (const types of [PLATFORM_EVENT_TYPES, CONNECT_EVENT_TYPES]) {
      expect(types).not.toContain('*');
      expect(new Set(types).size).toBe(types.length);
      for (const type of types) expect(type).toMatch(/^[a-z_]+(\.[a-z_]+)+$/);
    }
    expect(PLATFORM_EVENT_TYPES).not.toContain('account.updated');
    expect([...CONNECT_EVENT_TYPES].filter((type) => !PLATFORM_EVENT_TYPES.includes(type))).toEqual(['account.updated']);
    expect(EVENT_TYPES_OF_STREAM.balance_transactions).toEqual([]);
  });
});
