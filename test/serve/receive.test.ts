// `serve` receiving deliveries: what a signed event changes in the warehouse (by the events
// pass's rule), which ones it ignores (duplicates, late ones, the other mode), and that every
// request not signed by one of our endpoints is refused with nothing written.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from '../../connector/commands/load.js';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { MAX_BODY_BYTES } from '../../connector/serve/receiver.js';
import { allStreams, configFor } from '../connector/helpers.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, stripeFor } from '../simulator-spec/helpers.js';
import { CONNECT_ENDPOINT, PLATFORM_ENDPOINT, deliver, eventOf, health, signature, startServe, testWebhookSecret, until, type RunningServe } from './helpers.js';

let sim: RunningSimulator;
let running: RunningServe;
let platform: string;
let connected: string;
let clock: number;

async function row(stream: string, id: string) {
  const { rows } = await running.warehouse.client.query(`SELECT account_id, is_deleted, epoch(observed_at)::BIGINT AS observed_at, data FROM stripe_raw.${stream} WHERE id = $id`, { id });
  return rows[0] as { account_id: string; is_deleted: boolean; observed_at: bigint; data: string } | undefined;
}

async function receivedCount(): Promise<number> {
  const { rows } = await running.warehouse.client.query('SELECT count(*)::INTEGER AS n FROM stripe_elt.webhook_events');
  return Number(rows[0]?.n);
}

/** Everything the warehouse holds, as text: to see that nothing changed. */
async function everything(): Promise<string> {
  const { rows } = await running.warehouse.client.query(
    "SELECT (SELECT string_agg(id || observed_at::VARCHAR || is_deleted::VARCHAR || md5(data::VARCHAR), ',' ORDER BY id) FROM stripe_raw.customers) AS customers, (SELECT count(*) FROM stripe_elt.webhook_events) AS events",
  );
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
}

const journalFiles = () => readdirSync(running.journal).filter((name) => name.endsWith('.ndjson') && readFileSync(`${running.journal}/${name}`, 'utf8').length > 0);

beforeAll(async () => {
  sim = await startSimulator({ seed: 'serve-receive', objects: 1500, accounts: 2, rateLimits: { test: 0, endpoint: 0 } });
  const info = await control<{ platform: string; now: number }>(sim, 'info');
  platform = info.platform;
  clock = info.now;
  const stripe = stripeFor(sim);
  connected = (await stripe.accounts.list({ limit: 1 })).data[0]?.id as string;
  running = await startServe(sim);
  await load({ config: resolveConfig(configFor(sim), 'config', {}), streams: allStreams(), loader: running.warehouse, logger: silentLogger() });
}, 120_000);

afterAll(async () => {
  await running?.serve.stop();
  await running?.warehouse.close();
  await sim?.close();
});

async function customerOf(account?: string) {
  const stripe = stripeFor(sim);
  const list = await stripe.customers.list({ limit: 3 }, account ? { stripeAccount: account } : {});
  return list.data as unknown as Record<string, unknown>[];
}

describe('serve, given a delivery signed by one of our endpoints', () => {
  it('answers 200 once the event is in the journal, and commits its object with the event time as observed_at', async () => {
    const [customer] = await customerOf();
    const body = eventOf('evt_rename1', 'customer.updated', clock + 10, { ...customer, name: 'Renamed By Webhook' });
    const answer = await deliver(running.url, body, signature(body, PLATFORM_ENDPOINT.secret));
    expect(answer).toEqual({ status: 200, body: { received: true } });
    await until(async () => (await row('customers', customer?.id as string))?.observed_at === BigInt(clock + 10));
    const stored = await row('customers', customer?.id as string);
    expect(stored?.account_id).toBe(platform);
    expect(JSON.parse(stored?.data as string).name).toBe('Renamed By Webhook');
    expect(await receivedCount()).toBe(1);
    expect((await health(running.url)).events).toMatchObject({ received: 1, applied: 1, duplicates: 0, rejected: 0, pending: 0 });
  });

  it("ignores the same event delivered again, and an older event delivered late: the newer state stays", async () => {
    const [customer] = await customerOf();
    const again = eventOf('evt_rename1', 'customer.updated', clock + 10, { ...customer, name: 'Not This' });
    const older = eventOf('evt_rename0', 'customer.updated', clock + 5, { ...customer, name: 'Older Name' });
    for (const body of [again, again, older]) expect((await deliver(running.url, body, signature(body, PLATFORM_ENDPOINT.secret))).status).toBe(200);
    await until(async () => (await health(running.url)).events.duplicates === 2 && (await health(running.url)).events.pending === 0);
    const stored = await row('customers', customer?.id as string);
    expect(JSON.parse(stored?.data as string).name).toBe('Renamed By Webhook');
    expect(stored?.observed_at).toBe(BigInt(clock + 10));
    expect(await receivedCount()).toBe(2);
  });

  it("puts a connected account's event under that account, and marks a deleted object deleted", async () => {
    const [theirs] = await customerOf(connected);
    const body = eventOf('evt_gone1', 'customer.deleted', clock + 20, { ...theirs, deleted: true }, { account: connected });
    expect((await deliver(running.url, body, signature(body, CONNECT_ENDPOINT.secret))).status).toBe(200);
    await until(async () => (await row('customers', theirs?.id as string))?.is_deleted === true);
    expect((await row('customers', theirs?.id as string))?.account_id).toBe(connected);
  });

  it('answers 200 to an event of the other mode and keeps nothing of it', async () => {
    const [customer] = await customerOf();
    const before = await everything();
    const body = eventOf('evt_live1', 'customer.updated', clock + 30, { ...customer, livemode: true, name: 'Live' }, { livemode: true });
    expect(await deliver(running.url, body, signature(body, PLATFORM_ENDPOINT.secret))).toEqual({ status: 200, body: { ignored: 'a live-mode event; this warehouse holds test-mode data' } });
    await running.serve.commitJournal();
    expect(await everything()).toBe(before);
    expect((await health(running.url)).events.other_mode).toBe(1);
  });
});

describe('serve, given requests that Stripe did not sign', () => {
  it('refuses each with 400 (413 when too large), and writes nothing: not the journal, not the warehouse', async () => {
    const [customer] = await customerOf();
    const body = eventOf('evt_forged1', 'customer.updated', clock + 40, { ...customer, name: 'Forged' });
    const now = Math.floor(Date.now() / 1000);
    const valid = signature(body, PLATFORM_ENDPOINT.secret, now);
    const before = await everything();
    const rejectedBefore = (await health(running.url)).events.rejected as number;
    const cases: [string, string | Buffer, string | undefined, number, RegExp][] = [
      ['a forged signature', body, `t=${now},v1=${'ab'.repeat(32)}`, 400, /^signature refused: No signatures found matching the expected signature/],
      ['a body changed after signing', body.replace('Forged', 'Forgeed'), valid, 400, /^signature refused: No signatures found matching/],
      ['a wrong secret', body, signature(body, testWebhookSecret()), 400, /^signature refused: No signatures found matching/],
      ['a replay outside the tolerance', body, signature(body, PLATFORM_ENDPOINT.secret, now - 301), 400, /^signature refused: Timestamp outside the tolerance zone/],
      ['no signature header', body, undefined, 400, /^no Stripe-Signature header$/],
      ['a header without a v1 signature', body, `t=${now},v0=${'ab'.repeat(32)}`, 400, /^signature refused: No signatures found with expected scheme/],
      ['a body over the limit', Buffer.alloc(MAX_BODY_BYTES + 1, 'x'), valid, 413, /^the body is over 1048576 bytes$/],
      ['a signed body that is not JSON', 'not json', signature('not json', PLATFORM_ENDPOINT.secret), 400, /^the body is not JSON$/],
      ['a signed body that is not an event', '{"id":"cus_1"}', signature('{"id":"cus_1"}', PLATFORM_ENDPOINT.secret), 400, /^the body is not a Stripe event \(id, type, created, api_version, livemode, data\)$/],
    ];
    for (const [name, payload, header, status, reason] of cases) {
      const answer = await deliver(running.url, payload, header);
      expect(answer.status, name).toBe(status);
      expect(String(answer.body.error), name).toMatch(reason);
    }
    await running.serve.commitJournal();
    expect(await everything()).toBe(before);
    expect(journalFiles()).toEqual([]);
    expect((await health(running.url)).events.rejected).toBe(rejectedBefore + cases.length);
  });

  it('holds up under a flood of bad requests (2,000, 50 at a time, on loopback), writing nothing and still taking good ones', async () => {
    const [customer] = await customerOf();
    const before = await everything();
    const rejectedBefore = (await health(running.url)).events.rejected as number;
    const bad = eventOf('evt_flood', 'customer.updated', clock + 50, { ...customer, name: 'Flood' });
    const header = `t=${Math.floor(Date.now() / 1000)},v1=${'00'.repeat(32)}`;
    const statuses = new Map<number, number>();
    for (let sent = 0; sent < 2000; sent += 50) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => deliver(running.url, bad, header)));
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 400: 2000 });
    await running.serve.commitJournal();
    expect(await everything()).toBe(before);
    expect((await health(running.url)).events.rejected).toBe(rejectedBefore + 2000);
    // A real delivery right after is taken.
    const good = eventOf('evt_afterflood', 'customer.updated', clock + 60, { ...customer, name: 'After The Flood' });
    expect((await deliver(running.url, good, signature(good, PLATFORM_ENDPOINT.secret))).status).toBe(200);
    await until(async () => JSON.parse((await row('customers', customer?.id as string))?.data ?? '{}').name === 'After The Flood');
  });
});

describe('serve, given a signed event the warehouse refuses', () => {
  it('sets that event aside in the journal, and commits the others of its second and those after it', async () => {
    const [first, second] = await customerOf();
    // Signed by our endpoint, but its object says live mode in a test-mode warehouse: the commit refuses it.
    const bad = eventOf('evt_contradicts', 'customer.updated', clock + 70, { ...first, livemode: true, name: 'Contradiction' });
    const good = eventOf('evt_beside', 'customer.updated', clock + 70, { ...second, name: 'Committed Beside It' });
    await running.serve.commitJournal();
    for (const body of [bad, good]) expect(await deliver(running.url, body, signature(body, PLATFORM_ENDPOINT.secret))).toEqual({ status: 200, body: { received: true } });
    await running.serve.commitJournal();
    expect(JSON.parse((await row('customers', second?.id as string))?.data ?? '{}').name).toBe('Committed Beside It');
    expect(JSON.parse((await row('customers', first?.id as string))?.data ?? '{}').name).not.toBe('Contradiction');
    const failed = readdirSync(`${running.journal}/failed`);
    expect(failed).toHaveLength(1);
    const kept = readFileSync(`${running.journal}/failed/${failed[0]}`, 'utf8').trim().split('\n').map((line) => JSON.parse(line).body);
    expect(kept).toEqual([bad]);
    const now = await health(running.url);
    expect(now.status).toBe('degraded');
    expect(now.events.set_aside).toBe(1);
    expect(journalFiles()).toEqual([]);
    // Later events are committed as before.
    const after = eventOf('evt_afterrefusal', 'customer.updated', clock + 80, { ...second, name: 'And After' });
    expect(await deliver(running.url, after, signature(after, PLATFORM_ENDPOINT.secret))).toEqual({ status: 200, body: { received: true } });
    await until(async () => JSON.parse((await row('customers', second?.id as string))?.data ?? '{}').name === 'And After');
  });
});
