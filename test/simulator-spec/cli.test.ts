// `npm run simulator`: the process prints where it listens, serves, and stops cleanly on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const MAIN = ['--import', 'tsx', 'test/simulator/main.ts'];

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
    for (const option of ['--port', '--seed', '--now', '--days', '--objects', '--accounts', '--mode', '--payout-delays', '--key', '--rate-live', '--rate-test', '--rate-endpoint', '--rate-per-account', '--latency-ms', '--jitter-ms', '--error-rate', '--lock-timeout-rate', '--drop-rate']) {
      expect(result.stdout).toContain(option);
    }
  });

  it('refuses payout delays that are not whole days from 2 to 31', () => {
    const words = spawnSync(process.execPath, [...MAIN, '--port', '0', '--payout-delays', '2,two'], { encoding: 'utf8' });
    expect(words.status).not.toBe(0);
    expect(words.stderr).toContain('--payout-delays: "two" is not a whole number of days (write e.g. 2,14,31)');
    const long = spawnSync(process.execPath, [...MAIN, '--port', '0', '--payout-delays', '2,45'], { encoding: 'utf8' });
    expect(long.status).not.toBe(0);
    expect(long.stderr).toContain('payout delays must be whole days from 2 to 31, e.g. 2,14,31 (got 45)');
  });

  it('refuses an unknown option with a message and a non-zero exit', () => {
    const result = spawnSync(process.execPath, [...MAIN, '--objcts', '5'], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Unknown argument: objcts');
  });
});
