// `check` when things go wrong: whatever fails, it prints a CONNECTION_STATUS FAILED whose message
// is one sentence naming the cause, no stack trace anywhere, and exits 1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { finishCli, startCli } from '../cli-process.js';
import { closedPort, fakeStripe } from '../loopback.js';
import { configFor, protocolErrors } from './helpers.js';

let sim: RunningSimulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'check', objects: 300, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, keys: ['rk_test_noevents=*:read,events:none,connect.*:read'] });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-check-'));
});
afterAll(() => sim.close());

/** Runs `check` on a config; returns its status and message, having checked it printed nothing else. */
async function check(config: Record<string, unknown> | string): Promise<{ code: number | null; status: string; message: string }> {
  const path = typeof config === 'string' ? config : join(dir, `check-${Math.random()}.json`);
  if (typeof config !== 'string') writeFileSync(path, JSON.stringify(config));
  const result = await finishCli(startCli(['check', '--config', path]));
  const messages = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; connectionStatus: { status: string; message: string } });
  expect(messages.map((m) => m.type)).toEqual(['CONNECTION_STATUS']);
  const [message] = messages;
  expect(protocolErrors(message)).toBeNull();
  // No stack trace, on either stream.
  expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/\n\s+at /);
  return { code: result.code, status: message?.connectionStatus.status ?? '', message: message?.connectionStatus.message ?? '' };
}

/** `check` with api_base at a fake Stripe answering this body. */
async function checkAgainst(body: string): Promise<{ url: string; checked: Awaited<ReturnType<typeof check>> }> {
  const { url, server } = await fakeStripe(body);
  try {
    return { url, checked: await check(configFor(sim, { api_base: url })) };
  } finally {
    server.close();
  }
}

describe('check ends in a CONNECTION_STATUS whatever fails', () => {
  it('Stripe answering 500 beyond the retries', async () => {
    await control(sim, 'faults', { error_rate: 1 });
    try {
      expect(await check(configFor(sim))).toEqual({
        code: 1,
        status: 'FAILED',
        message:
          "Stripe answered 500 (Sorry, something went wrong. We've already been notified of the problem, but if you need any help, you can reach us at https://support.stripe.com/contact) to every try for 4 seconds; it may be having trouble (https://status.stripe.com): run check again later.",
      });
    } finally {
      await control(sim, 'faults', { error_rate: 0 });
    }
  });

  it('every connection dropped', async () => {
    await control(sim, 'faults', { drop_rate: 1 });
    try {
      expect(await check(configFor(sim))).toEqual({ code: 1, status: 'FAILED', message: `Could not reach Stripe at ${sim.url}: socket hang up. Check the network, or api_base.` });
    } finally {
      await control(sim, 'faults', { drop_rate: 0 });
    }
  });

  it('nothing listening at api_base: the URL and the network error', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    expect(await check(configFor(sim, { api_base: url }))).toEqual({
      code: 1,
      status: 'FAILED',
      message: `Could not reach Stripe at ${url}: connect ECONNREFUSED 127.0.0.1:${port}. Check the network, or api_base.`,
    });
  });

  it('an answer that is not Stripe’s', async () => {
    const { url, checked } = await checkAgainst('<html>a proxy page</html>');
    expect(checked).toEqual({
      code: 1,
      status: 'FAILED',
      message: `The answer from ${url} could not be read (Invalid JSON received from the Stripe API): is api_base the address of Stripe's API?`,
    });
  });

  it('an unexpected error', async () => {
    // The SDK itself fails on a JSON null (a TypeError, not one of its errors).
    const { checked } = await checkAgainst('null');
    expect(checked).toEqual({
      code: 1,
      status: 'FAILED',
      message: "check failed on an unexpected error: Cannot read properties of null (reading 'error'). LOG_LEVEL=debug shows where; please report it.",
    });
  });

  it('a config file that cannot be read', async () => {
    const path = join(dir, 'missing.json');
    expect(await check(path)).toEqual({ code: 1, status: 'FAILED', message: `Cannot read the config file ${path}: no such file.` });
  });
});

describe('check and events', () => {
  it('fails for a key that may not read events, naming the permission and why incremental syncs need it', async () => {
    const { code, status, message } = await check(configFor(sim, { api_key: 'rk_test_noevents' }));
    expect([code, status]).toEqual([1, 'FAILED']);
    expect(message).toMatch(/^Connected to Stripe account acct_\w+ \(Rocket Rides Platform\) in test mode with a restricted key\. /);
    expect(message.slice(message.indexOf('. ') + 2)).toBe(
      'The key may not read events: grant it rak_event_read (Read on Events). Incremental syncs need it: after the first sync, updates and deletions are learned from events.',
    );
  });

  it('succeeds for a key that may read events and every stream', async () => {
    const { code, status, message } = await check(configFor(sim));
    expect([code, status]).toEqual([0, 'SUCCEEDED']);
    expect(message).toContain('The key may read every stream.');
  });
});
