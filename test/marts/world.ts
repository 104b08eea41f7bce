// The world the mart tests check: a simulated Connect platform (several currencies, JPY among
// them; refunds, disputes won and lost, failed payouts, trials, coupons, plan changes,
// cancellations; payout delays up to 31 days), loaded and built with `stripe-elt sync`; then a
// connected account disconnects, time passes, and an incremental `sync` runs again, and a copy
// of that warehouse is rebuilt with `transform --full-refresh` to compare against.
//
// Each mart's test computes its figures in TypeScript straight from the simulator's truth
// (`truthAt(stage)`), sharing nothing with the SQL, and compares them with the mart's rows
// (`rows(stage, sql)`).
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { openReader } from '../../connector/loaders/warehouse.js';
import { finishCli, startCli } from '../cli-process.js';
import { configFor } from '../connector/helpers.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, truth, type TruthLine } from '../simulator-spec/helpers.js';

export type Stage = 'first' | 'second' | 'second_full_refresh';

export interface MartsWorld {
  readonly sim: RunningSimulator;
  readonly platform: string;
  /** The connected account that disconnects before the second sync. */
  readonly disconnected: string;
  /** The simulator's clock at each stage (unix seconds). */
  readonly now: Readonly<Record<'first' | 'second', number>>;
  /** The simulator's truth as it was at the stage's sync. */
  truthAt(stage: 'first' | 'second'): readonly TruthLine[];
  /** Rows of a query on the warehouse of a stage, values as the warehouse client gives them. */
  rows(stage: Stage, sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function run(args: readonly string[]): Promise<void> {
  const result = await finishCli(startCli(args));
  expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
}

/** Builds the world: two syncs and a full rebuild; about a minute. */
export async function martsWorld(): Promise<MartsWorld> {
  const sim = await startSimulator({ seed: 'marts-9', objects: 9000, accounts: 5, payoutDelayDays: [2, 7, 14, 31, 4], rateLimits: { test: 0, endpoint: 0 } });
  const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-marts-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(sim, { start_date: '2024-01-01' })));
  const first = join(dir, 'first.duckdb');
  const second = join(dir, 'second.duckdb');
  const full = join(dir, 'second-full.duckdb');
  const info = await control<{ platform: string; now: number }>(sim, 'info');

  await run(['sync', '--config', config, '--warehouse', `duckdb:${second}`]);
  const truthFirst = await truth(sim);
  copyFileSync(second, first);
  const connected = truthFirst.filter((l) => l.stream === 'accounts').map((l) => l.id);
  const disconnected = connected[connected.length - 1] as string;
  await control(sim, 'faults', { disconnect_accounts: [disconnected] });
  const advanced = await control<{ now: number }>(sim, 'advance', { days: 20 });
  // The account that left makes the load partial (exit 3), which is what it should say.
  const partial = await finishCli(startCli(['sync', '--config', config, '--warehouse', `duckdb:${second}`, '--allow-partial']));
  expect(partial.code, partial.stderr).toBe(0);
  const truthSecond = await truth(sim);
  copyFileSync(second, full);
  await run(['transform', '--warehouse', `duckdb:${full}`, '--full-refresh']);

  const files: Record<Stage, string> = { first, second, second_full_refresh: full };
  return {
    sim,
    platform: info.platform,
    disconnected,
    now: { first: info.now, second: advanced.now },
    truthAt: (stage) => (stage === 'first' ? truthFirst : truthSecond),
    rows: async (stage, sql) => {
      const client = await openReader(`duckdb:${files[stage]}`);
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.close();
      }
    },
    close: async () => {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A truth line's object, typed loosely: the fields of Stripe's object. */
export type StripeFields = Record<string, unknown> & { id: string; created?: number };

/** The truth's objects of a stream, with their account and whether they are deleted. */
export function objectsOf(lines: readonly TruthLine[], stream: string): { account: string; deleted: boolean; object: StripeFields }[] {
  return lines.filter((l) => l.stream === stream).map((l) => ({ account: l.account_id, deleted: l.deleted, object: l.object as StripeFields }));
}

/** A UTC month as the marts key it: the first day, `YYYY-MM-01`. */
export function monthOf(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 7)}-01`;
}

/** A UTC day, `YYYY-MM-DD`. */
export function dayOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
