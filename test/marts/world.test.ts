// The mart tests' world holds what the marts must get right: several currencies, JPY among them,
// refunds, disputes won and lost, failed payouts, trials, coupons, cancellations, a connected
// account that disconnects; and its two stages load and build.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { martsWorld, objectsOf, type MartsWorld } from './world.js';

let world: MartsWorld;
beforeAll(async () => {
  world = await martsWorld();
}, 300_000);
afterAll(() => world?.close());

describe('the marts world', () => {
  it('holds every case the marts must get right', () => {
    const truth = world.truthAt('second');
    const currencies = new Set(objectsOf(truth, 'charges').map((c) => c.object.currency));
    expect([...currencies].sort()).toEqual(expect.arrayContaining(['jpy', 'usd']));
    expect(currencies.size).toBeGreaterThanOrEqual(3);
    expect(objectsOf(truth, 'refunds').length).toBeGreaterThan(5);
    const disputes = objectsOf(truth, 'disputes').map((d) => d.object.status);
    expect(disputes).toEqual(expect.arrayContaining(['won', 'lost']));
    expect(objectsOf(truth, 'payouts').some((p) => p.object.status === 'failed')).toBe(true);
    const subscriptions = objectsOf(truth, 'subscriptions').map((s) => s.object);
    expect(subscriptions.some((s) => s.trial_end !== null)).toBe(true);
    expect(subscriptions.some((s) => s.status === 'canceled')).toBe(true);
    expect(subscriptions.some((s) => Array.isArray(s.discounts) && s.discounts.length > 0)).toBe(true);
    expect(truth.find((l) => l.stream === 'accounts' && l.id === world.disconnected)?.deleted).toBe(true);
  });

  it('has the staging layer built at both stages, and the full rebuild', async () => {
    for (const stage of ['first', 'second', 'second_full_refresh'] as const) {
      const [row] = await world.rows(stage, "SELECT count(*) AS n FROM stripe_elt.model_builds WHERE outcome = 'success'");
      expect(Number(row?.n), stage).toBeGreaterThan(0);
    }
  });
});
