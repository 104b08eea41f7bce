// The data itself: determinism from the seed, and money that agrees with itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, listAll, stripeFor, truth, type TruthLine } from './helpers.js';

describe('determinism', () => {
  it('the same seed and options give the same data, before and after the same advance', async () => {
    const [a, b, c] = await Promise.all([
      startSimulator({ seed: 'same', objects: 1500, accounts: 2 }),
      startSimulator({ seed: 'same', objects: 1500, accounts: 2 }),
      startSimulator({ seed: 'other', objects: 1500, accounts: 2 }),
    ]);
    try {
      const text = async (s: RunningSimulator) => (await fetch(`${s.url}/_sim/truth`)).text();
      expect(await text(a)).toBe(await text(b));
      expect(await text(a)).not.toBe(await text(c));
      await control(a, 'advance', { days: 12 });
      await control(b, 'advance', { days: 5 });
      await control(b, 'advance', { days: 7 });
      expect(await text(a)).toBe(await text(b));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('stable figures', () => {
  it('the small world is what it has been: its accounts, counts, payout delays and funds', async () => {
    // Benchmarks and other tests rely on these: a change to them means the data changed for every seed.
    const sim = await startSimulator();
    try {
      const info = await control<{ platform: string; modes: { test: { connected_accounts: unknown[]; objects: number; events: number } } }>(sim, 'info');
      expect(info.platform).toBe('acct_s1RKqSevltq3vi2n');
      expect(info.modes.test).toMatchObject({
        connected_accounts: [
          { id: 'acct_ZIfx8aQOrBMpbp8x', connected: true, objects: 1078, events: 235 },
          { id: 'acct_O16g9voxopftcNiX', connected: true, objects: 547, events: 188 },
          { id: 'acct_CBKdp0B0AhDdWqMj', connected: true, objects: 472, events: 138 },
        ],
        objects: 4163,
        events: 926,
      });
      const lines = await truth(sim);
      const delays = lines.filter((l) => l.stream === 'accounts').map((l) => [l.id, (l.object as unknown as { settings: { payouts: { schedule: { delay_days: number } } } }).settings.payouts.schedule.delay_days]);
      expect(delays).toEqual([['acct_O16g9voxopftcNiX', 4], ['acct_ZIfx8aQOrBMpbp8x', 2], ['acct_CBKdp0B0AhDdWqMj', 7]]);
      const txns = lines.filter((l) => l.stream === 'balance_transactions').map((l) => l.object as unknown as { available_on: number; created: number; status: string });
      expect([txns.length, txns.reduce((sum, t) => sum + (t.available_on - t.created), 0), txns.filter((t) => t.status === 'pending').length]).toEqual([1308, 160_957_786, 5]);
      expect(await control(sim, 'advance', { days: 30 })).toEqual({ now: 1_796_083_200, created: 693, updated: 565, deleted: 0, events: 1118, new_accounts: [] });
    } finally {
      await sim.close();
    }
  });
});

describe('the data', () => {
  let sim: RunningSimulator;
  let lines: TruthLine[];
  beforeAll(async () => {
    sim = await startSimulator({ objects: 20000, accounts: 3, rateLimits: { test: 0, endpoint: 0 } });
    lines = await truth(sim);
  });
  afterAll(() => sim.close());

  const objects = (stream: string, account?: string) =>
    lines.filter((l) => l.stream === stream && (!account || l.account_id === account)).map((l) => l.object as Record<string, unknown> & { id: string });

  it('spans more than 13 months of created times', () => {
    const created = lines.filter((l) => l.stream === 'charges').map((l) => l.object.created as number);
    expect(Math.max(...created) - Math.min(...created)).toBeGreaterThan(395 * 86_400);
  });

  it('holds every subscription status and every kind of charge', () => {
    const statuses = new Set(objects('subscriptions').map((s) => s.status));
    for (const status of ['active', 'trialing', 'past_due', 'canceled', 'incomplete_expired', 'paused', 'unpaid']) expect(statuses).toContain(status);
    const charges = objects('charges');
    expect(charges.some((c) => c.status === 'failed')).toBe(true);
    expect(charges.some((c) => c.refunded === true)).toBe(true);
    expect(charges.some((c) => (c.amount_refunded as number) > 0 && c.refunded === false)).toBe(true);
    expect(charges.some((c) => c.disputed === true)).toBe(true);
  });

  it('gives every connected account its own objects of every kind a business has', () => {
    const accounts = objects('accounts').map((a) => a.id);
    expect(accounts).toHaveLength(3);
    for (const account of accounts) {
      for (const stream of ['customers', 'products', 'prices', 'coupons', 'subscriptions', 'invoices', 'payment_intents', 'charges', 'payouts', 'balance_transactions']) {
        expect(objects(stream, account).length, `${stream} of ${account}`).toBeGreaterThan(0);
      }
    }
  });

  it("a succeeded charge's balance transaction holds its amount, fee and net", () => {
    for (const account of new Set(lines.map((l) => l.account_id))) {
      const txns = new Map(objects('balance_transactions', account).map((t) => [t.id, t]));
      for (const charge of objects('charges', account)) {
        if (charge.status !== 'succeeded') {
          expect(charge.balance_transaction).toBeNull();
          continue;
        }
        const txn = txns.get(charge.balance_transaction as string) as Record<string, unknown>;
        expect(txn).toMatchObject({ amount: charge.amount, source: charge.id, type: 'charge', currency: charge.currency });
        const fees = (txn.fee_details as { amount: number; type: string }[]).reduce((sum, d) => sum + d.amount, 0);
        expect(txn.fee).toBe(fees);
        expect(txn.net).toBe((charge.amount as number) - fees);
        const appFee = (txn.fee_details as { amount: number; type: string }[]).find((d) => d.type === 'application_fee');
        expect(appFee?.amount ?? null).toBe(charge.application_fee ? charge.application_fee_amount : null);
      }
    }
  });

  it("a refund's balance transaction is its negative amount", () => {
    for (const account of new Set(lines.map((l) => l.account_id))) {
      const txns = new Map(objects('balance_transactions', account).map((t) => [t.id, t]));
      for (const refund of objects('refunds', account)) {
        expect(txns.get(refund.balance_transaction as string)).toMatchObject({ amount: -(refund.amount as number), net: -(refund.amount as number), type: 'refund', source: refund.id });
      }
    }
  });

  it('a payout withdraws exactly the funds it swept', async () => {
    const stripe = stripeFor(sim);
    const payouts = (await stripe.payouts.list({ limit: 5 })).data;
    expect(payouts.length).toBeGreaterThan(0);
    for (const payout of payouts) {
      const swept = await listAll(stripe.balanceTransactions.list({ payout: payout.id, limit: 100 }));
      const withdrawal = swept.find((t) => t.type === 'payout');
      expect(withdrawal).toMatchObject({ amount: -payout.amount, source: payout.id });
      const funds = swept.filter((t) => t.type !== 'payout').reduce((sum, t) => sum + t.net, 0);
      expect(funds).toBe(payout.amount);
    }
  });

  it("the platform's application fees match its connected accounts' charges", () => {
    const platform = lines.find((l) => l.stream === 'accounts')?.account_id as string;
    const fees = objects('application_fees', platform);
    expect(fees.length).toBeGreaterThan(0);
    for (const fee of fees) {
      const charge = objects('charges', fee.account as string).find((c) => c.id === fee.charge);
      expect(charge).toMatchObject({ application_fee: fee.id, application_fee_amount: fee.amount, status: 'succeeded', currency: fee.currency });
    }
  });

  it("an application fee is taken in its charge's currency and lands in the platform's balance converted, with its exchange rate", () => {
    const platform = lines.find((l) => l.stream === 'accounts')?.account_id as string;
    const platformCurrency = 'usd';
    const txns = new Map(objects('balance_transactions', platform).map((t) => [t.id, t]));
    const fees = objects('application_fees', platform);
    const foreign = fees.filter((fee) => fee.currency !== platformCurrency);
    expect(new Set(foreign.map((fee) => fee.currency)).size).toBeGreaterThan(0);
    const minorUnits = (currency: unknown) => (currency === 'jpy' ? 1 : 100);
    for (const fee of fees) {
      const txn = txns.get(fee.balance_transaction as string) as Record<string, unknown>;
      expect(txn).toMatchObject({ type: 'application_fee', source: fee.id, currency: platformCurrency });
      if (fee.currency === platformCurrency) {
        expect(txn).toMatchObject({ amount: fee.amount, exchange_rate: null });
      } else {
        expect(typeof txn.exchange_rate).toBe('number');
        expect(txn.amount).toBe(Math.round(((fee.amount as number) / minorUnits(fee.currency)) * (txn.exchange_rate as number) * 100));
      }
    }
  });

  it("a transfer reaches its destination's balance", () => {
    const platform = lines.find((l) => l.stream === 'accounts')?.account_id as string;
    const transfers = objects('transfers', platform);
    expect(transfers.length).toBeGreaterThan(0);
    for (const transfer of transfers) {
      const received = objects('balance_transactions', transfer.destination as string).find((t) => t.source === transfer.destination_payment);
      expect(received).toMatchObject({ amount: transfer.amount, type: 'payment' });
    }
  });

  it('zero-decimal currencies have amounts in whole units', () => {
    const jpy = objects('prices').filter((p) => p.currency === 'jpy');
    for (const price of jpy) expect((price.unit_amount as number) % 10).toBe(0);
  });
});
