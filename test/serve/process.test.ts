// `stripe-elt serve` as a process: its first sync, deliveries answered once durable, a kill -9
// losing nothing (the journal is committed at the next start), SIGTERM committing what was
// accepted and exiting 0, `stripe-elt query` reading the published copy meanwhile, and no secret
// in anything it prints.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBClient } from '../../connector/loaders/duckdb/duckdb-client.js';
import { writeWebhookSecrets } from '../../connector/webhooks/secret-file.js';
import { finishCli, startCli } from '../cli-process.js';
import { configFor } from '../connector/helpers.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, stripeFor } from '../simulator-spec/helpers.js';
import { CONNECT_ENDPOINT, PLATFORM_ENDPOINT, deliver, eventOf, health, signature, until } from './helpers.js';

let sim: RunningSimulator;
let dir: string;
let configPath: string;
let secretFile: string;
let warehousePath: string;
const stderrs: string[] = [];
let delivered = 0;

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  stderr(): string;
}

/** Starts serve and waits for the line that gives its address. */
async function startServeProcess(extra: readonly string[]): Promise<Started> {
  const child = startCli(['serve', '--config', configPath, '--warehouse', `duckdb:${warehousePath}`, '--secret-file', secretFile, '--port', '0', '--transform-every', '0', ...extra]);
  let stderr = '';
  child.stdout?.on('data', () => {});
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /Receiving Stripe's events on (http:\/\/127\.0\.0\.1:\d+)\/webhooks/.exec(stderr);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

async function stopped(started: Started, signal: NodeJS.Signals): Promise<number | null> {
  const exit = once(started.child, 'exit') as Promise<[number | null, string | null]>;
  started.child.kill(signal);
  const [code] = await exit;
  stderrs.push(started.stderr());
  return code;
}

async function customers(): Promise<Record<string, unknown>[]> {
  return (await stripeFor(sim).customers.list({ limit: 40 })).data as unknown as Record<string, unknown>[];
}

/** Delivers a rename of each customer, signed by the platform endpoint; the names they get. */
async function renameAll(url: string, list: readonly Record<string, unknown>[], tag: string, at: number): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  await Promise.all(
    list.map(async (customer, i) => {
      const name = `${tag} ${i}`;
      const body = eventOf(`evt_${tag}${i}`, 'customer.updated', at, { ...customer, name });
      const answer = await deliver(url, body, signature(body, PLATFORM_ENDPOINT.secret));
      expect(answer.status).toBe(200);
      names.set(customer.id as string, name);
      delivered++;
    }),
  );
  return names;
}

async function namesIn(path: string): Promise<Map<string, string>> {
  const client = await DuckDBClient.open(path, { readOnly: true });
  try {
    const { rows } = await client.query("SELECT id, data->>'name' AS name FROM stripe_raw.customers WHERE account_id = (SELECT value FROM stripe_elt.settings WHERE key = 'platform')");
    return new Map(rows.map((r) => [String(r.id), String(r.name)]));
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'serve-process', objects: 800, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-serve-process-'));
  configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(configFor(sim)));
  secretFile = join(dir, 'secrets.json');
  writeWebhookSecrets(secretFile, [PLATFORM_ENDPOINT, CONNECT_ENDPOINT]);
  warehousePath = join(dir, 'stripe.duckdb');
});

afterAll(async () => {
  await sim?.close();
});

describe('stripe-elt serve', () => {
  it('syncs at start, then loses nothing to a kill -9: what it answered 200 to is committed at the next start', async () => {
    const first = await startServeProcess(['--sync-every', '24h']);
    await until(async () => (await health(first.url)).last_sync?.outcome === 'succeeded', 120_000);
    const clock = (await control<{ now: number }>(sim, 'info')).now;
    const list = await customers();
    const names = await renameAll(first.url, list, 'Killed', clock + 100);
    expect(await stopped(first, 'SIGKILL')).toBeNull();

    const second = await startServeProcess(['--sync-every', '0']);
    // The journal was committed before it listened… and its published copy holds it.
    const held = await namesIn(join(dir, 'stripe.readonly.duckdb'));
    for (const [id, name] of names) expect(held.get(id)).toBe(name);
    const query = await finishCli(startCli(['query', "SELECT count(*) AS n FROM stripe_elt.webhook_events WHERE id LIKE 'evt_Killed%'", '--warehouse', `duckdb:${warehousePath}`, '--format', 'csv']));
    expect(query.stdout).toBe(`n\r\n${list.length}\r\n`);
    expect(query.stderr).toMatch(new RegExp(`^${warehousePath.replaceAll('.', '\\.')} is being written to; reading the copy serve published at \\S+, ${join(dir, 'stripe.readonly.duckdb').replaceAll('.', '\\.')}\\.\\n$`));

    // Publishing the copy kept serve's hold on the file: another writer is still refused.
    const load = await finishCli(startCli(['load', '--config', configPath, '--warehouse', `duckdb:${warehousePath}`]));
    expect(load.code).toBe(1);
    expect(load.stderr).toContain(`Another stripe-elt serve is running on ${warehousePath} (process ${second.child.pid}): one writer at a time.`);

    // SIGTERM: stops taking deliveries, commits what it accepted, exits 0.
    const renamed = await renameAll(second.url, list, 'Stopped', clock + 200);
    expect(await stopped(second, 'SIGTERM')).toBe(0);
    const after = await namesIn(warehousePath);
    for (const [id, name] of renamed) expect(after.get(id)).toBe(name);
    expect(readdirSync(`${warehousePath}.journal`).filter((f) => f.endsWith('.ndjson'))).toEqual([]);
  }, 300_000);

  it('logs one line per event received, and never a secret', () => {
    const all = stderrs.join('');
    expect(all.split('\n').filter((line) => line.includes('"msg":"received"')).length).toBe(delivered);
    expect(delivered).toBeGreaterThanOrEqual(20);
    expect(all).not.toMatch(/whsec_/);
    expect(all).not.toContain('rk_test_simulator');
    expect(all).toContain('"msg":"Stopped: every event accepted is in the warehouse."');
  });

  it('refuses to start, before any work, without a secret file, or on a port in use', async () => {
    const missing = await finishCli(startCli(['serve', '--config', configPath, '--warehouse', `duckdb:${join(dir, 'other.duckdb')}`, '--secret-file', join(dir, 'none.json')]));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(dir, 'none.json')} holds no webhook signing secret: register the endpoints first`);
    expect(readdirSync(dir)).not.toContain('other.duckdb');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const busy = await finishCli(startCli(['serve', '--config', configPath, '--warehouse', `duckdb:${join(dir, 'other.duckdb')}`, '--secret-file', secretFile, '--port', String(port)]));
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`Port ${port} on 127.0.0.1 is in use by another program: give another with --port.`);
      expect(readdirSync(dir)).not.toContain('other.duckdb');
    } finally {
      taken.close();
    }
  });
});
