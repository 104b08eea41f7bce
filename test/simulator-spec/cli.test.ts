// `npm run simulator`: the process prints where it listens, serves, and stops cleanly on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const MAIN = ['--import', 'tsx', 'test/simulator/main.ts'];

/** The simulator refuses to start with `args`, saying `message`. */
function expectRefusal(args: readonly string[], message: string): void {
  const result = spawnSync(process.execPath, [...MAIN, '--port', '0', ...args], { encoding: 'utf8' });
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain(message);
}

describe('the simulator process', () => {
  it('prints one line "listening on http://127.0.0.1:P", serves the SDK, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [...MAIN, '--port', '0', '--objects', '800', '--accounts', '2', '--seed', 'cli', '--now', '2026-11-01'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, 'line')) as [string];
      expect(line).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = line.replace('listening on ', '');
      const response = await fetch(`${url}/v1/accounts`, { headers: { Authorization: 'Bearer rk_test_simulator' } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(2);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('--help documents the seed, the scale, the mode, limits and faults', () => {
    const result = spawnSync(process.execPath, [...MAIN, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    for (const option of ['--port', '--seed', '--now', '--days', '--objects', '--accounts', '--mode', '--payout-delays', '--key', '--rate-live', '--rate-test', '--rate-endpoint', '--rate-per-account', '--latency-ms', '--jitter-ms', '--error-rate', '--lock-timeout-rate', '--drop-rate',
      '--webhook-retry-base-ms', '--webhook-max-attempts', '--webhook-duplicate-rate', '--webhook-concurrency', '--webhook-shuffle', '--webhook-timeout-ms']) {
      expect(result.stdout).toContain(option);
    }
  });

  it('refuses payout delays that are not whole days from 2 to 31', () => {
    expectRefusal(['--payout-delays', '2,two'], '--payout-delays: "two" is not a whole number of days (write e.g. 2,14,31)');
    expectRefusal(['--payout-delays', '2,45'], 'payout delays must be whole days from 2 to 31, e.g. 2,14,31 (got 45)');
  });

  it('passes the webhook options to the deliveries, as /_sim/webhooks shows them', async () => {
    const flags = ['--webhook-retry-base-ms', '250', '--webhook-max-attempts', '3', '--webhook-duplicate-rate', '0.5', '--webhook-concurrency', '2', '--webhook-shuffle', '--webhook-timeout-ms', '900'];
    const child = spawn(process.execPath, [...MAIN, '--port', '0', '--objects', '300', '--accounts', '1', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const state = (await (await fetch(`${line.replace('listening on ', '')}/_sim/webhooks`)).json()) as { settings: unknown };
      expect(state.settings).toEqual({ retry_base_ms: 250, max_attempts: 3, duplicate_rate: 0.5, concurrency: 2, shuffle: true, timeout_ms: 900 });
      child.kill('SIGTERM');
      expect((await once(child, 'exit'))[0]).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses webhook options out of range, naming the option', () => {
    expectRefusal(['--webhook-duplicate-rate', '2'], 'webhookDuplicateRate (--webhook-duplicate-rate) must be from 0 to 1 (got 2)');
    expectRefusal(['--webhook-max-attempts', '0'], 'webhookMaxAttempts (--webhook-max-attempts) must be a whole number ≥ 1 (got 0)');
  });

  it('refuses an unknown option with a message and a non-zero exit', () => {
    const result = spawnSync(process.execPath, [...MAIN, '--objcts', '5'], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Unknown argument: objcts');
  });
});
