// The stripe-elt commands as a process: what they print, their exit codes, their errors, and
// that no API key ever reaches their output.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../connector/streams/catalog.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { finishCli, startCli, type CliResult } from '../cli-process.js';
import { closedPort } from '../loopback.js';
import { committedRecords, compareWithTruth, configFor, lastStates, latest, protocolErrors, type Data, type Message } from './helpers.js';

const SECRET_KEY = 'rk_test_9fXq2Lw7Zp3Rt8Vb';

interface ReadResult extends CliResult {
  readonly messages: Message[];
}

async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ReadResult> {
  const result = await finishCli(startCli(args, { env }));
  return { ...result, messages: result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Message) };
}

let sim: RunningSimulator;
let dir: string;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function catalogFile(name: string, streams: readonly string[] = STREAM_NAMES): string {
  return file(name, { streams: streams.map((s) => ({ stream: { name: s, json_schema: {}, supported_sync_modes: ['incremental'] }, sync_mode: 'incremental', destination_sync_mode: 'append_dedup' })) });
}

beforeAll(async () => {
  sim = await startSimulator({
    seed: 'cli',
    objects: 2500,
    accounts: 3,
    modes: ['test', 'live'],
    rateLimits: { test: 0, endpoint: 0, live: 0 },
    keys: [`${SECRET_KEY}=*:read,connect.*:read`, 'rk_test_nocharges=*:read,charges:none,connect.*:read', 'rk_test_noconnect=*:read'],
  });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-cli-'));
});
afterAll(() => sim.close());

describe('spec and discover', () => {
  it('spec prints one SPEC message whose connectionSpecification is spec.json, api_key marked secret', async () => {
    const result = await runCli(['spec']);
    expect(result.code).toBe(0);
    expect(result.messages).toHaveLength(1);
    const spec = result.messages[0] as { type: string; spec: { connectionSpecification: Record<string, unknown> } };
    expect(protocolErrors(spec)).toBeNull();
    expect(spec.spec.connectionSpecification).toEqual(JSON.parse(readFileSync('spec.json', 'utf8')));
    expect((spec.spec.connectionSpecification.properties as Record<string, { airbyte_secret?: boolean }>).api_key?.airbyte_secret).toBe(true);
  });

  it('discover prints every stream with both sync modes, its primary key and cursor', async () => {
    const result = await runCli(['discover', '--config', file('discover.json', configFor(sim))]);
    expect(result.code).toBe(0);
    const catalog = result.messages[0] as { type: string; catalog: { streams: Record<string, unknown>[] } };
    expect(protocolErrors(catalog)).toBeNull();
    expect(catalog.catalog.streams.map((s) => s.name)).toEqual([...STREAM_NAMES]);
    for (const stream of catalog.catalog.streams) {
      expect(stream.supported_sync_modes).toEqual(['full_refresh', 'incremental']);
      expect(stream.source_defined_primary_key).toEqual([['account_id'], ['id']]);
      expect(stream.default_cursor_field).toEqual(['observed_at']);
      expect((stream.json_schema as { properties: Record<string, unknown> }).properties).toHaveProperty('account_id');
    }
  });
});

describe('check', () => {
  async function check(config: Record<string, unknown>): Promise<{ code: number | null; status: string; message: string; result: ReadResult }> {
    const result = await runCli(['check', '--config', file(`check-${Math.random()}.json`, config)]);
    const status = result.messages.find((m) => m.type === 'CONNECTION_STATUS') as unknown as { connectionStatus: { status: string; message: string } };
    expect(protocolErrors(status)).toBeNull();
    return { code: result.code, status: status.connectionStatus.status, message: status.connectionStatus.message, result };
  }

  it('succeeds for a restricted key, naming the account, the mode and the connected accounts', async () => {
    const { code, status, message } = await check(configFor(sim));
    expect([code, status]).toEqual([0, 'SUCCEEDED']);
    expect(message).toMatch(/^Connected to Stripe account acct_\w+ \(Rocket Rides Platform\) in test mode with a restricted key\./);
    expect(message).toContain('The key may read every stream.');
    expect(message).toContain('3 connected accounts reachable; 3 will be read.');
  });

  it('reports live mode for a live key', async () => {
    const { status, message } = await check(configFor(sim, { api_key: 'rk_live_simulator' }));
    expect(status).toBe('SUCCEEDED');
    expect(message).toContain('in live mode');
  });

  it('fails for an invalid key, saying to create a new restricted key', async () => {
    const { code, status, message } = await check(configFor(sim, { api_key: 'rk_test_doesnotexist1' }));
    expect([code, status]).toEqual([1, 'FAILED']);
    expect(message).toMatch(/^Authentication failed: Stripe rejected the API key \(Invalid API Key provided: rk_test_\*\*\*\*ist1\)/);
    expect(message).toContain('Create a new restricted key');
  });

  it('fails for an expired (rolled) key', async () => {
    await fetch(`${sim.url}/_sim/keys`, { method: 'POST', body: JSON.stringify({ definition: 'rk_test_rolledover1=*:read' }) });
    await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ expire_keys: ['rk_test_rolledover1'] }) });
    const { status, message } = await check(configFor(sim, { api_key: 'rk_test_rolledover1' }));
    expect(status).toBe('FAILED');
    expect(message).toContain('Expired API Key provided');
    expect(message).toContain('Create a new restricted key');
  });

  it('fails for a malformed key or account_id, saying what they must look like', async () => {
    const key = await check(configFor(sim, { api_key: 'pk_test_publishable' }));
    expect(key.status).toBe('FAILED');
    expect(key.message).toContain('api_key: must be a Stripe API key: rk_live_… or rk_test_…');
    const account = await check(configFor(sim, { account_id: 'acc_123' }));
    expect(account.status).toBe('FAILED');
    expect(account.message).toContain('account_id: must be acct_ followed by letters and digits');
  });

  it("fails when account_id is not the key's account", async () => {
    const { status, message } = await check(configFor(sim, { account_id: 'acct_SomebodyElse1' }));
    expect(status).toBe('FAILED');
    expect(message).toMatch(/^The API key belongs to Stripe account acct_\w+, not to acct_SomebodyElse1 \(account_id\)\./);
  });

  it('succeeds with a secret key, warning that a read-only restricted key is recommended and how to make one', async () => {
    const { status, message } = await check(configFor(sim, { api_key: 'sk_test_simulator' }));
    expect(status).toBe('SUCCEEDED');
    expect(message).toContain('with a secret key');
    expect(message).toContain('Warning: this is a secret key with full access');
    expect(message).toContain('Create restricted key');
  });

  it('succeeds when some streams may not be read, naming each and the permission to grant', async () => {
    const { status, message } = await check(configFor(sim, { api_key: 'rk_test_nocharges' }));
    expect(status).toBe('SUCCEEDED');
    expect(message).toContain('The key may not read: charges (grant rak_charge_read).');
  });

  it('says so when the key has no Connect permission', async () => {
    const { status, message } = await check(configFor(sim, { api_key: 'rk_test_noconnect' }));
    expect(status).toBe('SUCCEEDED');
    expect(message).toContain('Connected accounts unavailable: the key has no Connect permission');
  });

  it('fails when Stripe cannot be reached', async () => {
    const { status, message } = await check(configFor(sim, { api_base: 'http://127.0.0.1:9' }));
    expect(status).toBe('FAILED');
    expect(message).toMatch(/^Could not reach Stripe at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('read', () => {
  it('prints only valid protocol messages on stdout, logs on stderr, and exits 0', async () => {
    const result = await runCli(['read', '--config', file('read.json', configFor(sim)), '--catalog', catalogFile('catalog.json')]);
    expect(result.code).toBe(0);
    expect(result.messages.length).toBeGreaterThan(1000);
    expect(result.messages.map(protocolErrors).filter(Boolean).slice(0, 3)).toEqual([]);
    expect(result.stderr).toContain('read finished');
  });

  it('takes the key from STRIPE_API_KEY when the config has none', async () => {
    const config = configFor(sim);
    delete config.api_key;
    const result = await runCli(['read', '--config', file('nokey.json', config), '--catalog', catalogFile('coupons.json', ['coupons'])], { STRIPE_API_KEY: 'rk_test_simulator' });
    expect(result.code).toBe(0);
    expect(result.messages.some((m) => m.type === 'RECORD')).toBe(true);
  });

  it('killed with SIGKILL and run again from its last STATE, ends with the same data', async () => {
    const config = file('kill.json', configFor(sim));
    const catalog = catalogFile('kill-catalog.json');
    const child = startCli(['read', '--config', config, '--catalog', catalog]);
    child.stderr?.resume();
    const printed: Message[] = [];
    let cutLines = 0;
    await new Promise<void>((resolve) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      let cut = 0;
      lines.on('line', (line) => {
        // A process killed in the middle of a write leaves its last line cut short; only the last.
        if (cut > 0) cut++;
        try {
          printed.push(JSON.parse(line) as Message);
        } catch {
          cut++;
          return;
        }
        if (printed.filter((m) => m.type === 'RECORD').length === 1000) child.kill('SIGKILL');
      });
      lines.on('close', () => {
        cutLines = cut;
        resolve();
      });
    });
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    // Killed before it finished, so the second run has something left to do.
    expect(child.signalCode).toBe('SIGKILL');
    expect(cutLines).toBeLessThanOrEqual(1);
    const committed = committedRecords(printed);
    const state = file('kill-state.json', lastStates(printed));
    const resumed = await runCli(['read', '--config', config, '--catalog', catalog, '--state', state]);
    expect(resumed.code).toBe(0);
    const records = resumed.messages.filter((m) => m.type === 'RECORD').map((m) => m.record as { stream: string; data: Data });
    expect(records.length).toBeGreaterThan(0);
    const comparison = await compareWithTruth(sim, latest(committed, records));
    expect(comparison.missing).toEqual([]);
    expect(comparison.different).toEqual([]);
  });
});

describe('Stripe out of reach', () => {
  it('read and load fail after two quick attempts at most, with the sentence check gives', async () => {
    const port = await closedPort();
    const config = file('unreachable.json', configFor(sim, { api_base: `http://127.0.0.1:${port}` }));
    const sentence = `Could not reach Stripe at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}. Check the network, or api_base.`;
    const runs = await Promise.all([
      finishCli(startCli(['read', '--config', config, '--catalog', catalogFile('unreachable-catalog.json', ['customers'])], { logLevel: 'debug' })),
      finishCli(startCli(['load', '--config', config, '--warehouse', `duckdb:${join(dir, 'unreachable.duckdb')}`], { logLevel: 'debug' })),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      const logged = run.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string; endpoint?: string });
      // Each failed attempt is logged as it is retried or given up.
      const attempts = logged.filter((line) => line.msg === 'retrying a request');
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.length).toBeLessThanOrEqual(2);
      expect(attempts.every((line) => line.endpoint === 'GET /v1/account')).toBe(true);
      expect(logged.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual([sentence]);
      const trace = run.stdout.split('\n').filter((line) => line.startsWith('{"type":"TRACE","trace":{"type":"ERROR"'));
      expect(trace.map((line) => (JSON.parse(line) as { trace: { error: { message: string; failure_type: string } } }).trace.error)).toEqual([{ message: sentence, failure_type: 'transient_error' }]);
    }
  });
});

describe('bad input', () => {
  async function failing(args: string[]): Promise<string> {
    const result = await runCli(args);
    expect(result.code).toBe(1);
    const error = result.messages.find((m) => m.type === 'TRACE') as unknown as { trace: { type: string; error: { message: string; failure_type: string } } };
    expect(error.trace.type).toBe('ERROR');
    expect(protocolErrors(error)).toBeNull();
    expect(result.stderr).toContain(error.trace.error.message.slice(0, 40));
    return error.trace.error.message;
  }

  it('a missing config file', async () => {
    expect(await failing(['read', '--config', join(dir, 'nope.json'), '--catalog', catalogFile('c1.json')])).toMatch(/^Cannot read the config file .*nope\.json: no such file\.$/);
  });

  it('a config that is not JSON', async () => {
    expect(await failing(['discover', '--config', file('broken.json', '{"api_key": "rk_test_simulator",')])).toMatch(/^The config file .*broken\.json is not valid JSON: /);
  });

  it('a config with an unknown key or a bad value', async () => {
    expect(await failing(['discover', '--config', file('typo.json', { api_keys: 'x' })])).toContain('unknown key "api_keys" (known keys: api_key, account_id, start_date');
    expect(await failing(['discover', '--config', file('date.json', { api_key: 'rk_test_simulator', start_date: 'last year' })])).toContain('start_date: must be a date as YYYY-MM-DD');
    expect(await failing(['discover', '--config', file('limit.json', { api_key: 'rk_test_simulator', lookback_window_days: -1 })])).toContain('lookback_window_days:');
  });

  it("an account_id that is not the key's account: read refuses it as check does, and prints no record", async () => {
    const args = ['read', '--config', file('other-account.json', configFor(sim, { account_id: 'acct_SomebodyElse1' })), '--catalog', catalogFile('other-account-catalog.json', ['customers'])];
    expect(await failing(args)).toMatch(/^The API key belongs to Stripe account acct_\w+, not to acct_SomebodyElse1 \(account_id\)\. Use a key of acct_SomebodyElse1, or correct account_id\.$/);
    expect((await runCli(args)).messages.filter((m) => m.type === 'RECORD')).toEqual([]);
  });

  it('a config without any key', async () => {
    expect(await failing(['discover', '--config', file('empty.json', {})])).toBe('No API key: set api_key in ' + join(dir, 'empty.json') + ', or the STRIPE_API_KEY environment variable.');
  });

  it('a catalog naming an unknown stream, or not a catalog at all', async () => {
    const config = file('good.json', configFor(sim));
    expect(await failing(['read', '--config', config, '--catalog', catalogFile('unknown.json', ['customers', 'widgets'])])).toMatch(/names a stream "widgets" that this source does not have\. Its streams are: customers, products/);
    expect(await failing(['read', '--config', config, '--catalog', file('notcatalog.json', { streams: 'all' })])).toMatch(/is not a configured catalog: streams: .*`discover` prints every stream\.$/);
  });

  it('a state that this source did not write', async () => {
    const config = file('good2.json', configFor(sim));
    const state = file('badstate.json', [{ type: 'STREAM', stream: { stream_descriptor: { name: 'customers' }, stream_state: { cursor: 5 } } }]);
    expect(await failing(['read', '--config', config, '--catalog', catalogFile('c2.json', ['customers']), '--state', state])).toContain('the state of "customers" is not one this source wrote');
  });

  it('an unknown command or option', async () => {
    const result = await runCli(['reed']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Unknown argument: reed');
  });
});

describe('secrets', () => {
  it('the API key appears in no output of any command, failing ones included', async () => {
    const good = file('secret.json', configFor(sim, { api_key: SECRET_KEY }));
    const broken = file('secret-broken.json', `{"api_key": "${SECRET_KEY}", "start_date": 2024}`);
    const wrongAccount = file('secret-account.json', configFor(sim, { api_key: SECRET_KEY, account_id: 'acct_Other' }));
    const runs = await Promise.all([
      runCli(['check', '--config', good]),
      runCli(['discover', '--config', good]),
      runCli(['read', '--config', good, '--catalog', catalogFile('secret-catalog.json', ['customers', 'charges'])]),
      runCli(['check', '--config', broken]),
      runCli(['read', '--config', broken, '--catalog', catalogFile('secret-catalog2.json', ['customers'])]),
      runCli(['check', '--config', wrongAccount]),
      runCli(['read', '--config', file('secret-down.json', configFor(sim, { api_key: SECRET_KEY, api_base: 'http://127.0.0.1:9' })), '--catalog', catalogFile('secret-catalog3.json', ['customers'])]),
    ]);
    // Each run did what it was meant to: succeeded, or failed where the key could have leaked.
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(runs[2]?.messages.some((m) => m.type === 'RECORD')).toBe(true);
    for (const run of runs) {
      expect(run.stdout).not.toContain(SECRET_KEY);
      expect(run.stderr).not.toContain(SECRET_KEY);
      expect(run.stdout + run.stderr).not.toContain('9fXq2Lw7Zp3Rt8Vb');
    }
  });
});
