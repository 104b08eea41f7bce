// The other shapes of data (test/simulator/shapes.ts), as the backfill benchmark reads them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, startSimulator, type RunningSimulator } from '../simulator/index.js';
import type { ShapeName } from '../simulator/shapes.js';
import { truth, type TruthLine } from './helpers.js';

const WORLD = { seed: 'shapes', objects: 20_000, accounts: 3 } as const;

/** The truth of a world of the shape (the default business without one). */
async function world(shape?: ShapeName): Promise<{ sim: RunningSimulator; lines: TruthLine[] }> {
  const sim = await startSimulator({ ...WORLD, ...(shape ? { shape } : {}) });
  return { sim, lines: await truth(sim) };
}

function created(lines: readonly TruthLine[], stream: string, account?: string): number[] {
  return lines.filter((l) => l.stream === stream && (account === undefined || l.account_id === account)).map((l) => l.object.created as number);
}

describe('data shapes', () => {
  const sims: RunningSimulator[] = [];
  let plain: TruthLine[];
  beforeAll(async () => {
    const { sim, lines } = await world();
    sims.push(sim);
    plain = lines;
  });
  afterAll(() => Promise.all(sims.map((sim) => sim.close())));

  it('bursts: customers arrive 150 in the same second, about as many as in the default world', async () => {
    const { sim, lines } = await world('bursts');
    sims.push(sim);
    const perSecond = new Map<number, number>();
    for (const time of created(lines, 'customers')) perSecond.set(time, (perSecond.get(time) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBe(150);
    // Every burst is whole, but the last one of each account's history may be cut by its end.
    expect([...perSecond.values()].filter((n) => n === 150).length).toBeGreaterThan(perSecond.size / 2);
    const ratio = created(lines, 'customers').length / created(plain, 'customers').length;
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.3);
  });

  it('quiet gaps: customers arrive only in the first 5 days of every 60, about as many as in the default world', async () => {
    const { sim, lines } = await world('quiet-gaps');
    sims.push(sim);
    const customers = created(lines, 'customers');
    expect(customers.filter((time) => time % (60 * DAY) >= 5 * DAY)).toEqual([]);
    const ratio = customers.length / created(plain, 'customers').length;
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.3);
  });

  it("fees platform: the platform sells nothing, and its application fees and their balance transactions are nearly all its objects", async () => {
    const { sim, lines } = await world('fees-platform');
    sims.push(sim);
    const platform = sim.server.world.platformId;
    const own = lines.filter((l) => l.account_id === platform && l.stream !== 'events' && l.stream !== 'accounts');
    expect(created(lines, 'customers', platform)).toEqual([]);
    expect(created(lines, 'charges', platform)).toEqual([]);
    const fees = own.filter((l) => l.stream === 'application_fees').length;
    expect(fees).toBeGreaterThan(1000);
    // A fee from every succeeded charge of the connected accounts (each of them takes 5%).
    const succeeded = lines.filter((l) => l.stream === 'charges' && l.account_id !== platform && l.object.status === 'succeeded').length;
    expect(fees).toBe(succeeded);
    expect((fees + own.filter((l) => l.stream === 'balance_transactions').length) / own.length).toBeGreaterThan(0.95);
  });
});
