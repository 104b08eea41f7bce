// `stripe-elt webhooks register|list|remove`, run as a process against the simulator through the
// real `stripe` SDK: the endpoints Stripe ends up with, the secret file, and what is printed —
// never a signing secret, on either stream.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../connector/stripe/client.js';
import { CONNECT_EVENT_TYPES, PLATFORM_EVENT_TYPES } from '../../connector/webhooks/event-types.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, stripeFor } from '../simulator-spec/helpers.js';
import { finishCli, startCli, type CliResult } from '../cli-process.js';
import { configFor } from './helpers.js';

/** A restricted key that may write webhook endpoints (and read everything). */
const WRITE_KEY = 'rk_test_webhooks';
const PLATFORM_DESCRIPTION = "stripe-elt: the platform account's own events, for stripe-elt serve";
const CONNECT_DESCRIPTION = "stripe-elt: the connected accounts' events (connect=true), for stripe-elt serve";

let sim: RunningSimulator;
let dir: string;
let stripe: Stripe;
let writeConfig: string;

function configFile(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(configFor(sim, { api_key: WRITE_KEY, ...extra })));
  return path;
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'webhooks', objects: 300, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, keys: [`${WRITE_KEY}=*:read,webhook_endpoints:write,connect.*:read`] });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-webhooks-'));
  stripe = stripeFor(sim, WRITE_KEY);
  writeConfig = configFile('config');
});
afterAll(() => sim.close());

/** Runs `stripe-elt webhooks ARGS`; whatever happens, no signing secret is printed. */
async function webhooks(...args: string[]): Promise<CliResult> {
  const result = await finishCli(startCli(['webhooks', ...args]));
  expect(result.stdout).not.toContain('whsec_');
  expect(result.stderr).not.toContain('whsec_');
  return result;
}

/** The one sentence a failed command ends with: the TRACE error on stdout (a pipe), the same on stderr. */
function failure(result: CliResult): string {
  expect(result.code).toBe(1);
  const [trace, ...more] = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; trace: { error: { message: string } } });
  expect(more).toEqual([]);
  expect(trace?.type).toBe('TRACE');
  const message = trace?.trace.error.message ?? '';
  expect(result.stderr.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([message]);
  return message;
}

/** The simulator's endpoints at a URL, as it keeps them (with their `connect` flag and secret), platform first. */
function endpointsAt(url: string) {
  return sim.server.webhookEndpoints
    .list('test')
    .filter((endpoint) => endpoint.url === url)
    .sort((a, b) => Number(a.connect) - Number(b.connect));
}

const requestsServed = async () => (await control<{ total: number }>(sim, 'stats')).total;
const createsServed = async () => (await control<{ by_endpoint: Record<string, number> }>(sim, 'stats')).by_endpoint['POST /v1/webhook_endpoints'] ?? 0;

function secretFileOf(path: string): { mode: number; endpoints: { id: string; url: string; connect: boolean; secret: string }[] } {
  return { mode: statSync(path).mode & 0o777, endpoints: (JSON.parse(readFileSync(path, 'utf8')) as { endpoints: { id: string; url: string; connect: boolean; secret: string }[] }).endpoints };
}

/** register's first line for an endpoint it created. */
function createdLine(role: 'platform' | 'connect', id: string, url: string): string {
  return role === 'platform'
    ? `Created the platform endpoint ${id} at ${url}, for the platform account's own events (connect=false): 71 event types, API version ${STRIPE_API_VERSION}.`
    : `Created the Connect endpoint ${id} at ${url}, for the connected accounts' events (connect=true): 72 event types, API version ${STRIPE_API_VERSION}.`;
}

describe('webhooks register', () => {
  const url = 'https://example.com/stripe-elt/webhooks';
  let secrets: string;

  it('creates a platform endpoint and a Connect endpoint at our API version for our event types, their secrets in a file of mode 0600 only', async () => {
    secrets = join(dir, 'secrets.json');
    const result = await webhooks('register', '--config', writeConfig, '--url', url, '--secret-file', secrets);
    expect(result.code).toBe(0);
    const [platform, connect] = endpointsAt(url);
    expect(endpointsAt(url).map((endpoint) => [endpoint.connect, endpoint.apiVersion, endpoint.metadata, endpoint.description, endpoint.status])).toEqual([
      [false, STRIPE_API_VERSION, { stripe_elt: 'platform' }, PLATFORM_DESCRIPTION, 'enabled'],
      [true, STRIPE_API_VERSION, { stripe_elt: 'connect' }, CONNECT_DESCRIPTION, 'enabled'],
    ]);
    expect(platform?.enabledEvents).toEqual(PLATFORM_EVENT_TYPES);
    expect(connect?.enabledEvents).toEqual(CONNECT_EVENT_TYPES);
    expect(secretFileOf(secrets)).toEqual({
      mode: 0o600,
      endpoints: [
        { id: platform?.id, url, connect: false, secret: platform?.secret },
        { id: connect?.id, url, connect: true, secret: connect?.secret },
      ],
    });
    expect(platform?.secret).not.toBe(connect?.secret);
    expect(result.stdout).toBe(
      [
        createdLine('platform', platform?.id as string, url),
        createdLine('connect', connect?.id as string, url),
        `Their signing secrets are in ${secrets} (readable by its owner only); stripe-elt serve --secret-file ${secrets} reads them.`,
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('');
  });

  it('run again, reuses both endpoints, creates nothing and leaves the secret file as it was', async () => {
    const before = readFileSync(secrets, 'utf8');
    const creates = await createsServed();
    const result = await webhooks('register', '--config', writeConfig, '--url', url, '--secret-file', secrets);
    expect(result.code).toBe(0);
    const [platform, connect] = endpointsAt(url);
    expect(endpointsAt(url)).toHaveLength(2);
    expect(await createsServed()).toBe(creates);
    expect(readFileSync(secrets, 'utf8')).toBe(before);
    expect(result.stdout).toBe(
      [
        `Reused the platform endpoint ${platform?.id} at ${url}, for the platform account's own events (connect=false): 71 event types, API version ${STRIPE_API_VERSION}.`,
        `Reused the Connect endpoint ${connect?.id} at ${url}, for the connected accounts' events (connect=true): 72 event types, API version ${STRIPE_API_VERSION}.`,
        `Nothing was created: every endpoint was registered already, and their signing secrets stay in ${secrets}.`,
        '',
      ].join('\n'),
    );
  });

  it('reusing an endpoint whose events or status differ updates them and keeps its secret', async () => {
    const [platform] = endpointsAt(url);
    await stripe.webhookEndpoints.update(platform?.id as string, { enabled_events: ['customer.created', 'plan.created'], disabled: true });
    const before = readFileSync(secrets, 'utf8');
    const result = await webhooks('register', '--config', writeConfig, '--url', url, '--secret-file', secrets);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(
      `Reused the platform endpoint ${platform?.id} at ${url}, for the platform account's own events (connect=false): 71 event types, API version ${STRIPE_API_VERSION}; ` +
        'updated its event types (70 added, 1 removed) and its status (enabled again: Stripe had disabled it).',
    );
    expect([endpointsAt(url)[0]?.enabledEvents, endpointsAt(url)[0]?.status]).toEqual([PLATFORM_EVENT_TYPES, 'enabled']);
    expect(readFileSync(secrets, 'utf8')).toBe(before);
  });

  it('reusing an endpoint whose secret the file does not hold is refused, saying how to fix it, and nothing is changed or written', async () => {
    const other = join(dir, 'other-secrets.json');
    const [platform] = endpointsAt(url);
    const requests = await requestsServed();
    const message = failure(await webhooks('register', '--config', writeConfig, '--url', url, '--secret-file', other));
    expect(message).toBe(
      `The platform endpoint ${platform?.id} at ${url} is stripe-elt's, but ${other} does not hold its signing secret, which Stripe shows only when it creates an endpoint. ` +
        `Either remove it and register again (stripe-elt webhooks remove --config ${writeConfig} --url ${url}, then this command again), ` +
        `or roll its secret in the Stripe Dashboard (Developers → Webhooks → the endpoint → Roll secret) and add {"id": "${platform?.id}", "url": "${url}", "connect": false, "secret": "<its new signing secret>"} to the "endpoints" of ${other}. ` +
        `No endpoint was created, and nothing was written to ${other}.`,
    );
    // One request: the list that found it.
    expect(await requestsServed()).toBe(requests + 1);
    expect(existsSync(other)).toBe(false);
    expect(endpointsAt(url)).toHaveLength(2);
  });

  it('an endpoint of ours at another API version is refused: Stripe cannot change it, so the message says to remove it and register again', async () => {
    const oldUrl = 'https://example.com/old-version';
    const old = await stripe.webhookEndpoints.create({ url: oldUrl, enabled_events: [...PLATFORM_EVENT_TYPES], api_version: '2024-06-20', metadata: { stripe_elt: 'platform' } });
    const file = join(dir, 'old-version-secrets.json');
    writeFileSync(file, JSON.stringify({ endpoints: [{ id: old.id, url: oldUrl, connect: false, secret: old.secret }] }), { mode: 0o600 });
    const platformOnly = configFile('platform-only', { connected_accounts: 'none' });
    const message = failure(await webhooks('register', '--config', platformOnly, '--url', oldUrl, '--secret-file', file));
    expect(message).toBe(
      `The platform endpoint ${old.id} at ${oldUrl} sends events at API version 2024-06-20, not stripe-elt's ${STRIPE_API_VERSION}, and Stripe cannot change an endpoint's API version. ` +
        `Remove it and register again (a new endpoint, with a new secret): stripe-elt webhooks remove --config ${platformOnly} --url ${oldUrl} --secret-file ${file}, then this command again. ` +
        `No endpoint was created, and nothing was written to ${file}.`,
    );
    expect(endpointsAt(oldUrl).map((endpoint) => endpoint.apiVersion)).toEqual(['2024-06-20']);
  });

  it('with connected_accounts "none", creates the platform endpoint only', async () => {
    const platformUrl = 'https://example.com/platform-only';
    const file = join(dir, 'platform-only-secrets.json');
    const result = await webhooks('register', '--config', configFile('no-connect', { connected_accounts: 'none' }), '--url', platformUrl, '--secret-file', file);
    expect(result.code).toBe(0);
    const [platform, ...more] = endpointsAt(platformUrl);
    expect(more).toEqual([]);
    expect([platform?.connect, platform?.metadata]).toEqual([false, { stripe_elt: 'platform' }]);
    expect(secretFileOf(file).endpoints).toEqual([{ id: platform?.id, url: platformUrl, connect: false, secret: platform?.secret }]);
    expect(result.stdout).toBe(
      [
        createdLine('platform', platform?.id as string, platformUrl),
        'No Connect endpoint: connected_accounts is "none", so connected accounts\' events are not needed.',
        `Its signing secret is in ${file} (readable by its owner only); stripe-elt serve --secret-file ${file} reads it.`,
        '',
      ].join('\n'),
    );
  });

  it('a failure after the platform endpoint was created keeps its secret in the file and says so; the next run finishes, reusing it', async () => {
    // Between the command and the simulator, a proxy that refuses every create after the first.
    let creates = 0;
    const proxy = createServer((incoming, answer) => {
      if (incoming.method === 'POST' && incoming.url === '/v1/webhook_endpoints' && creates++ > 0) {
        answer.writeHead(400, { 'content-type': 'application/json' });
        answer.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'You have reached the maximum of 16 test webhook endpoints.' } }));
        return;
      }
      incoming.pipe(httpRequest({ host: '127.0.0.1', port: sim.port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (reply) => {
        answer.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(answer);
      }));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const halfUrl = 'https://example.com/half-done';
    const file = join(dir, 'half-done-secrets.json');
    try {
      const throughProxy = configFile('through-proxy', { api_base: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      const message = failure(await webhooks('register', '--config', throughProxy, '--url', halfUrl, '--secret-file', file));
      const [platform, ...more] = endpointsAt(halfUrl);
      expect(more).toEqual([]);
      expect(message).toBe(
        'Stripe answered 400 to a request of webhooks register: You have reached the maximum of 16 test webhook endpoints. ' +
          `Before that, the platform endpoint ${platform?.id} was created, its signing secret written to ${file}; run the command again to finish (it reuses what was created).`,
      );
      expect(secretFileOf(file)).toEqual({ mode: 0o600, endpoints: [{ id: platform?.id, url: halfUrl, connect: false, secret: platform?.secret }] });
    } finally {
      proxy.close();
    }
    const again = await webhooks('register', '--config', writeConfig, '--url', halfUrl, '--secret-file', file);
    expect(again.code).toBe(0);
    const [platform, connect] = endpointsAt(halfUrl);
    expect(again.stdout.split('\n').slice(0, 2)).toEqual([
      `Reused the platform endpoint ${platform?.id} at ${halfUrl}, for the platform account's own events (connect=false): 71 event types, API version ${STRIPE_API_VERSION}.`,
      createdLine('connect', connect?.id as string, halfUrl),
    ]);
    expect(secretFileOf(file).endpoints.map((entry) => [entry.id, entry.connect, entry.secret])).toEqual([
      [platform?.id, false, platform?.secret],
      [connect?.id, true, connect?.secret],
    ]);
  });

  it('a key without Write on webhook endpoints gets what to grant and where, exit 1, and no file', async () => {
    const readOnly = join(dir, 'read-only.json');
    writeFileSync(readOnly, JSON.stringify(configFor(sim)));
    const readOnlyUrl = 'https://example.com/read-only';
    const file = join(dir, 'read-only-secrets.json');
    const message = failure(await webhooks('register', '--config', readOnly, '--url', readOnlyUrl, '--secret-file', file));
    expect(message).toBe(
      'The API key lacks Write on webhook endpoints (rak_webhook_write), which webhooks register needs. Grant it in the Stripe Dashboard: ' +
        'Developers → API keys → the restricted key → Edit → "Webhook Endpoints: Write", then run the command again. ' +
        `No endpoint was created, and nothing was written to ${file}.`,
    );
    expect(existsSync(file)).toBe(false);
    expect(endpointsAt(readOnlyUrl)).toEqual([]);
  });
});

describe('webhooks register refuses bad input before any request to Stripe', () => {
  /** The sentence register fails with for these arguments, having checked it made no request and wrote no file. */
  async function refused(url: string, secretFile: string): Promise<string> {
    const requests = await requestsServed();
    const existed = existsSync(secretFile);
    const message = failure(await webhooks('register', '--config', writeConfig, '--url', url, '--secret-file', secretFile));
    expect(await requestsServed()).toBe(requests);
    expect(existsSync(secretFile)).toBe(existed);
    return message;
  }

  it('a plain http URL of another host than this machine', async () => {
    expect(await refused('http://example.com/webhooks', join(dir, 'http.json'))).toBe(
      '--url http://example.com/webhooks is not an https URL: Stripe posts events only to https addresses (behind TLS, such as https://example.com/webhooks); plain http is accepted for 127.0.0.1 and localhost only, for tests.',
    );
  });

  it('something that is not a URL', async () => {
    expect(await refused('example.com/webhooks', join(dir, 'not-url.json'))).toBe(
      '--url example.com/webhooks is not a URL: give the https address where stripe-elt serve receives events, such as https://example.com/webhooks.',
    );
  });

  it('a URL with a password in it', async () => {
    expect(await refused('https://user:pass@example.com/webhooks', join(dir, 'password.json'))).toBe(
      "--url must not hold a user name or password: Stripe's signature already proves who sends the events. Give it as https://example.com/webhooks.",
    );
  });

  it('a secret file in a folder that does not exist', async () => {
    const folder = join(dir, 'missing-folder');
    expect(await refused('https://example.com/webhooks', join(folder, 'secrets.json'))).toBe(
      `The folder of --secret-file ${folder}/secrets.json, ${folder}, does not exist: create it (mkdir -p ${folder}), or name a file in a folder that exists.`,
    );
  });

  it('a secret file that is a folder', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    expect(await refused('https://example.com/webhooks', folder)).toBe(`--secret-file ${folder} is a folder, not a file: name a file in it, such as ${folder}/webhook-secrets.json.`);
  });

  it('a secret file that cannot be written', async () => {
    // sysfs refuses new files even to root, whom file modes do not stop.
    expect(await refused('https://example.com/webhooks', '/sys/stripe-elt-webhook-secrets.json')).toBe(
      '--secret-file /sys/stripe-elt-webhook-secrets.json cannot be written: creating a file in /sys failed (permission denied). Name a file in a folder you may write to.',
    );
  });

  it('a secret file that others may read', async () => {
    const file = join(dir, 'readable.json');
    writeFileSync(file, JSON.stringify({ endpoints: [] }));
    chmodSync(file, 0o644);
    expect(await refused('https://example.com/webhooks', file)).toBe(`${file} holds webhook signing secrets but others may read it (mode 0644); run chmod 600 ${file}.`);
  });
});

describe('webhooks list', () => {
  it("shows every endpoint of the account, stripe-elt's marked, with url, status, API version and event count, and no secret", async () => {
    const listUrl = 'https://example.com/list';
    await webhooks('register', '--config', writeConfig, '--url', listUrl, '--secret-file', join(dir, 'list-secrets.json'));
    const foreign = await stripe.webhookEndpoints.create({ url: 'https://example.com/someone-else', enabled_events: ['*'] });
    const [platform, connect] = endpointsAt(listUrl);
    // A read-only key may list.
    const readOnly = join(dir, 'list-read-only.json');
    writeFileSync(readOnly, JSON.stringify(configFor(sim)));
    const result = await webhooks('list', '--config', readOnly);
    expect(result.code).toBe(0);
    const all = sim.server.webhookEndpoints.list('test');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`${all.length} webhook endpoints in test mode, ${all.filter((endpoint) => endpoint.metadata.stripe_elt).length} of them stripe-elt's:`);
    expect(lines).toHaveLength(all.length + 2); // the header, and the final newline
    expect(lines).toContain(`${platform?.id} ${listUrl}: enabled, API version ${STRIPE_API_VERSION}, 71 event types; stripe-elt's platform endpoint, for the platform account's own events.`);
    expect(lines).toContain(`${connect?.id} ${listUrl}: enabled, API version ${STRIPE_API_VERSION}, 72 event types; stripe-elt's Connect endpoint, for the connected accounts' events.`);
    expect(lines).toContain(`${foreign.id} https://example.com/someone-else: enabled, API version the account's default, every event type; not stripe-elt's.`);
  });
});

describe('webhooks remove', () => {
  it('--url deletes our endpoints at that URL and drops their secrets from the file, keeping the others', async () => {
    const keep = 'https://example.com/keep';
    const drop = 'https://example.com/drop';
    const file = join(dir, 'remove-secrets.json');
    await webhooks('register', '--config', writeConfig, '--url', keep, '--secret-file', file);
    await webhooks('register', '--config', writeConfig, '--url', drop, '--secret-file', file);
    const kept = secretFileOf(file).endpoints.filter((entry) => entry.url === keep);
    const [platform, connect] = endpointsAt(drop);
    const result = await webhooks('remove', '--config', writeConfig, '--url', drop, '--secret-file', file);
    expect(result.code).toBe(0);
    expect(endpointsAt(drop)).toEqual([]);
    expect(endpointsAt(keep)).toHaveLength(2);
    expect(secretFileOf(file)).toEqual({ mode: 0o600, endpoints: kept });
    expect(result.stdout).toBe(
      [
        `Removed the Connect endpoint ${connect?.id} at ${drop}.`,
        `Removed the platform endpoint ${platform?.id} at ${drop}.`,
        `Dropped 2 signing secrets from ${file}; it still holds 2 secrets of other endpoints.`,
        '',
      ].join('\n'),
    );
    const again = await webhooks('remove', '--config', writeConfig, '--url', drop, '--secret-file', file);
    expect([again.code, again.stdout]).toEqual([0, `No stripe-elt endpoint at ${drop} in test mode: nothing was removed.\n`]);
  });

  it("--all-ours deletes every endpoint with our metadata and leaves the others'", async () => {
    const foreign = await stripe.webhookEndpoints.create({ url: 'https://example.com/not-ours', enabled_events: ['charge.succeeded'] });
    const ours = sim.server.webhookEndpoints.list('test').filter((endpoint) => endpoint.metadata.stripe_elt).map((endpoint) => endpoint.id);
    expect(ours.length).toBeGreaterThanOrEqual(6);
    const result = await webhooks('remove', '--config', writeConfig, '--all-ours');
    expect(result.code).toBe(0);
    const left = sim.server.webhookEndpoints.list('test');
    expect(left.filter((endpoint) => endpoint.metadata.stripe_elt)).toEqual([]);
    expect(left.map((endpoint) => endpoint.id)).toContain(foreign.id);
    const lines = result.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('Removed ')).map((line) => /(we_\w+)/.exec(line)?.[1]).sort()).toEqual([...ours].sort());
    expect(lines.at(-2)).toBe('No --secret-file was given: a file holding their secrets keeps them (they verify nothing now).');
  });

  it('without --url or --all-ours, or with both, is a usage error before any request', async () => {
    const requests = await requestsServed();
    for (const args of [[], ['--url', 'https://example.com/x', '--all-ours']]) {
      const result = await webhooks('remove', '--config', writeConfig, ...args);
      expect(result.code).toBe(2);
    }
    expect(await requestsServed()).toBe(requests);
  });
});
