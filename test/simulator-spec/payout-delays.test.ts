// Payout delays up to Stripe's 31 days: funds stay pending until their available_on, payouts sweep
// exactly what became available, and no event marks the change.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY, startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, listAll, stripeFor } from './helpers.js';

const startOfDay = (time: number) => Math.floor(time / DAY) * DAY;

describe('a 31-day payout delay', () => {
  let sim: RunningSimulator;
  let stripe: Stripe;
  let start: number;

  beforeAll(async () => {
    sim = await startSimulator({ objects: 6000, accounts: 2, payoutDelayDays: [31], rateLimits: { test: 0, endpoint: 0 } });
    stripe = stripeFor(sim);
    start = (await control<{ now: number }>(sim, 'info')).now;
  });
  afterAll(() => sim.close());

  it("holds a charge's funds pending until 31 days after its day, then makes them available with no event", async () => {
    // A charge made 20 days ago, on a connected account.
    let found: { account: string; charge: Stripe.Charge } | undefined;
    for (const { id } of (await stripe.accounts.list()).data) {
      const charges = await listAll(stripe.charges.list({ created: { gte: start - 21 * DAY, lt: start - 20 * DAY }, limit: 100 }, { stripeAccount: id }));
      const charge = charges.find((c) => c.status === 'succeeded');
      if (charge) found ??= { account: id, charge };
    }
    const { account, charge } = found as { account: string; charge: Stripe.Charge };
    const options = { stripeAccount: account };
    expect((await stripe.accounts.retrieve(account)).settings?.payouts?.schedule).toMatchObject({ delay_days: 31 });
    const txnId = charge.balance_transaction as string;
    const availableOn = startOfDay(charge.created) + 31 * DAY;
    await expect(stripe.balanceTransactions.retrieve(txnId, {}, options)).resolves.toMatchObject({ status: 'pending', available_on: availableOn, source: charge.id });

    await control(sim, 'advance', { seconds: availableOn - start - 1 });
    await expect(stripe.balanceTransactions.retrieve(txnId, {}, options)).resolves.toMatchObject({ status: 'pending' });
    await control(sim, 'advance', { seconds: 1 });
    await expect(stripe.balanceTransactions.retrieve(txnId, {}, options)).resolves.toMatchObject({ status: 'available' });

    const events = await listAll(stripe.events.list({ created: { gte: start }, limit: 100 }, options));
    expect(events.length).toBeGreaterThan(0);
    const aboutTxn = events.filter((e) => (e.data.object as { id?: string; object?: string }).id === txnId || (e.data.object as { object?: string }).object === 'balance_transaction');
    expect(aboutTxn).toEqual([]);

    // The next payout (within a week, daily or weekly) sweeps the funds.
    await control(sim, 'advance', { days: 8 });
    const payouts = await listAll(stripe.payouts.list({ created: { gte: availableOn }, limit: 100 }, options));
    const swept = await Promise.all(payouts.map(async (p) => (await listAll(stripe.balanceTransactions.list({ payout: p.id, limit: 100 }, options))).map((t) => t.id)));
    expect(swept.flat()).toContain(txnId);
  });
});

describe('payout delays from a list', () => {
  let sim: RunningSimulator;
  let stripe: Stripe;
  beforeAll(async () => {
    sim = await startSimulator({ objects: 3000, days: 150, accounts: 4, payoutDelayDays: [2, 14, 31], rateLimits: { test: 0, endpoint: 0 } });
    stripe = stripeFor(sim);
  });
  afterAll(() => sim.close());

  const delayOf = (a: Stripe.Account) => a.settings?.payouts?.schedule.delay_days;

  it('go to the connected accounts round-robin in the order they joined; the platform keeps 2 days', async () => {
    const byCreation = (accounts: Stripe.Account[]) => accounts.sort((a, b) => (a.created as number) - (b.created as number));
    const accounts = byCreation(await listAll(stripe.accounts.list({ limit: 100 })));
    expect(accounts.map(delayOf)).toEqual([2, 14, 31, 2]);
    const { platform } = await control<{ platform: string }>(sim, 'info');
    expect(delayOf(await stripe.accounts.retrieve(platform))).toBe(2);
    // Accounts that join later take the next turns (the business may add one of its own meanwhile).
    const { new_accounts: joined } = await control<{ new_accounts: string[] }>(sim, 'advance', { days: 1, new_accounts: 2 });
    const newcomers = byCreation(await Promise.all(joined.map((id) => stripe.accounts.retrieve(id))));
    expect(newcomers.length).toBeGreaterThanOrEqual(2);
    expect(newcomers.map(delayOf)).toEqual(newcomers.map((_, i) => [2, 14, 31][(4 + i) % 3]));
  });

  it('payouts sweep exactly the funds that had become available, and every one of them', async () => {
    const accounts = await listAll(stripe.accounts.list({ limit: 100 }));
    let checked = 0;
    for (const account of accounts) {
      const options = { stripeAccount: account.id };
      const payouts = await listAll(stripe.payouts.list({ limit: 100 }, options));
      const txns = await listAll(stripe.balanceTransactions.list({ limit: 100 }, options));
      const sweptBy = new Map<string, string>();
      for (const payout of payouts) {
        const swept = await listAll(stripe.balanceTransactions.list({ payout: payout.id, limit: 100 }, options));
        const funds = swept.filter((t) => t.type !== 'payout');
        for (const t of funds) {
          expect(t.available_on, `${t.id} in ${payout.id}`).toBeLessThanOrEqual(payout.created);
          sweptBy.set(t.id, payout.id);
        }
        expect(funds.reduce((sum, t) => sum + t.net, 0)).toBe(payout.amount);
      }
      const lastPayout = Math.max(...payouts.map((p) => p.created));
      const due = txns.filter((t) => t.type !== 'payout' && t.available_on < lastPayout);
      expect(due.filter((t) => !sweptBy.has(t.id)).map((t) => t.id)).toEqual([]);
      checked += due.length;
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('payout delay option', () => {
  it('refuses delays Stripe does not offer, naming the range', async () => {
    for (const delays of [[40], [1], [2.5], []]) {
      await expect(startSimulator({ payoutDelayDays: delays })).rejects.toThrow(/^payout delays must be whole days from 2 to 31, e\.g\. 2,14,31 \(got /);
    }
  });
});
