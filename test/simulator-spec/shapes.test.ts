// Every simulated object has the fields and JSON types of Stripe's own sample object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { stripeSample } from '../simulator/samples.js';
import { control, stripeFor, truth, type TruthLine } from './helpers.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function kind(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/**
 * How `actual` departs from `sample`: at the top level the keys must be the same; in nested
 * objects every sample key must be present (Stripe's samples show only some nested fields); where
 * both values are non-null their JSON types must agree. An empty sample object is a free-form map.
 */
export function shapeDifferences(sample: Json, actual: Json, path = '', topLevel = true, allowExtra: readonly string[] = []): string[] {
  if (sample === null || actual === null) return [];
  if (kind(sample) !== kind(actual)) return [`${path || '.'}: ${kind(actual)} where Stripe has ${kind(sample)}`];
  if (Array.isArray(sample) && Array.isArray(actual)) {
    if (sample.length === 0) return [];
    return actual.flatMap((item, i) => shapeDifferences(sample[0] as Json, item, `${path}[${i}]`, false));
  }
  if (typeof sample !== 'object' || typeof actual !== 'object' || Array.isArray(sample) || Array.isArray(actual)) return [];
  const sampleKeys = Object.keys(sample);
  if (sampleKeys.length === 0) return [];
  const problems: string[] = [];
  for (const key of sampleKeys) if (!(key in actual)) problems.push(`${path}.${key}: missing`);
  if (topLevel) {
    for (const key of Object.keys(actual)) if (!(key in sample) && !allowExtra.includes(key)) problems.push(`${path}.${key}: not in Stripe's sample`);
  }
  for (const key of sampleKeys) {
    if (key in actual) problems.push(...shapeDifferences(sample[key] as Json, actual[key] as Json, `${path}.${key}`, false));
  }
  return problems;
}

/**
 * Stripe's sample as an object of this type looks at an older API version: before
 * 2025-03-31.basil, subscriptions held their current period and invoices their payment.
 */
function sampleAt(type: string, apiVersion: string): Json {
  const sample = structuredClone(stripeSample(type)) as { [key: string]: Json };
  if (apiVersion >= '2025-03-31') return sample;
  if (type === 'subscription') {
    Object.assign(sample, { current_period_end: 0, current_period_start: 0 });
    const item = ((sample.items as { [key: string]: Json }).data as { [key: string]: Json }[])[0] as { [key: string]: Json };
    delete item.current_period_end;
    delete item.current_period_start;
  }
  if (type === 'invoice') {
    Object.assign(sample, { paid: true, paid_out_of_band: false, charge: 'ch_', payment_intent: 'pi_' });
    delete sample.parent;
  }
  return sample;
}

let sim: RunningSimulator;
let lines: TruthLine[];

beforeAll(async () => {
  sim = await startSimulator({ objects: 15000, accounts: 3 });
  await control(sim, 'advance', { days: 20, new_accounts: 1 });
  lines = await truth(sim);
});
afterAll(() => sim.close());

describe('simulated objects against Stripe samples', () => {
  const types = [
    'customer', 'product', 'price', 'coupon', 'subscription', 'invoice', 'payment_intent', 'charge', 'refund', 'dispute',
    'credit_note', 'payout', 'balance_transaction', 'transfer', 'application_fee', 'account',
  ];

  it.each(types)('every %s has the sample fields and types', (type) => {
    const objects = lines.filter((l) => l.object.object === type).map((l) => l.object);
    expect(objects.length).toBeGreaterThan(0);
    const problems = objects.flatMap((o) => shapeDifferences(stripeSample(type) as Json, o as Json).map((p) => `${o.id}${p}`));
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('every event has the sample event fields, and its data.object those of its own type', () => {
    const events = lines.filter((l) => l.stream === 'events').map((l) => l.object);
    expect(events.length).toBeGreaterThan(100);
    // Events are rendered at the account's API version of their time: both eras occur here.
    expect(new Set(events.map((e) => String(e.api_version) < '2025-03-31')).size).toBe(2);
    const problems = events.flatMap((e) => {
      const data = e.data as { object: Json & { object: string } };
      const sample = { ...stripeSample('event'), data: { object: null } } as Json;
      const envelope = { ...e, data: { ...data, object: null } } as Json;
      return [
        ...shapeDifferences(sample, envelope, '', true, ['account']),
        ...shapeDifferences(sampleAt(data.object.object, String(e.api_version)), data.object).map((p) => `.data.object${p}`),
      ].map((p) => `${e.id} (${String(e.type)})${p}`);
    });
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('a deleted customer is retrieved as the deleted_customer sample', async () => {
    const deleted = lines.find((l) => l.stream === 'customers' && l.deleted && l.account_id === lines[0]?.account_id);
    expect(deleted).toBeDefined();
    const stub = await stripeFor(sim).customers.retrieve(deleted?.id as string);
    expect(shapeDifferences(stripeSample('deleted_customer') as Json, stub as unknown as Json)).toEqual([]);
    expect(stub).toMatchObject({ id: deleted?.id, object: 'customer', deleted: true });
  });

  it('at an API version before 2025-03-31.basil, subscriptions carry their period and invoices their payment', async () => {
    const old = stripeFor(sim, 'rk_test_simulator', { apiVersion: '2024-06-20' as never });
    const [subscription] = (await old.subscriptions.list({ limit: 1 })).data as unknown as Record<string, unknown>[];
    expect(subscription).toHaveProperty('current_period_start');
    expect(subscription).toHaveProperty('current_period_end');
    const item = (subscription?.items as { data: Record<string, unknown>[] }).data[0];
    expect(item).not.toHaveProperty('current_period_start');
    const [invoice] = (await old.invoices.list({ limit: 1 })).data as unknown as Record<string, unknown>[];
    expect(invoice).toHaveProperty('paid');
    expect(invoice).toHaveProperty('payment_intent');
    expect(invoice).not.toHaveProperty('parent');

    const current = stripeFor(sim);
    const [latest] = (await current.subscriptions.list({ limit: 1 })).data as unknown as Record<string, unknown>[];
    expect(latest).not.toHaveProperty('current_period_start');
    expect((latest?.items as { data: Record<string, unknown>[] }).data[0]).toHaveProperty('current_period_start');
  });
});
