// The command line itself: a typo, a stray argument or a missing option stops the command before
// any work (no request to Stripe, no file created), with one message and exit code 2.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control } from '../simulator-spec/helpers.js';
import { finishCli, startCli, type CliResult } from '../cli-process.js';
import { configFor } from './helpers.js';

let sim: RunningSimulator;
let dir: string;
let config: string;
let catalog: string;

const requestsServed = async () => (await control<{ total: number }>(sim, 'stats')).total;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'command-line', objects: 300, accounts: 1, rateLimits: { test: 0, endpoint: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-command-line-'));
  config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(configFor(sim)));
  catalog = join(dir, 'catalog.json');
  writeFileSync(catalog, JSON.stringify({ streams: [{ stream: { name: 'customers', json_schema: {}, supported_sync_modes: ['incremental'] }, sync_mode: 'incremental' }] }));
});
afterAll(() => sim.close());

/**
 * Runs a command line that must be refused: exit code 2, one line on stderr (returned), no
 * request to the simulator, and on stdout (a pipe) only a TRACE error with the same sentence.
 */
async function refused(args: readonly string[]): Promise<string> {
  const before = await requestsServed();
  const result: CliResult = await finishCli(startCli(args));
  expect(result.code).toBe(2);
  expect(await requestsServed()).toBe(before);
  const lines = result.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  const message = lines[0] as string;
  const printed = result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; trace?: { type: string; error: { message: string; failure_type: string } } });
  expect(printed.map((m) => [m.type, m.trace?.type, m.trace?.error.message, m.trace?.error.failure_type])).toEqual([['TRACE', 'ERROR', message, 'config_error']]);
  return message;
}

describe('a command line that is not right stops before any work, with exit code 2', () => {
  it('a mistyped option: the message suggests the option meant, and the warehouse is not created', async () => {
    const warehouse = join(dir, 'typo.duckdb');
    const defaultWarehouseExisted = existsSync('stripe.duckdb');
    expect(await refused(['load', '--config', config, '--warehose', `duckdb:${warehouse}`])).toBe(
      'Unknown argument: --warehose (did you mean --warehouse?). Run stripe-elt load --help for its options.',
    );
    expect(existsSync(warehouse)).toBe(false);
    expect(existsSync('stripe.duckdb')).toBe(defaultWarehouseExisted);
  });

  it('an option no command has: no suggestion when nothing is close', async () => {
    expect(await refused(['load', '--config', config, '--warehouse', `duckdb:${join(dir, 'fast.duckdb')}`, '--fast'])).toBe(
      'Unknown argument: --fast. Run stripe-elt load --help for its options.',
    );
    expect(existsSync(join(dir, 'fast.duckdb'))).toBe(false);
  });

  it('an option of another command', async () => {
    expect(await refused(['spec', '--config', 'x'])).toBe('Unknown argument: --config. Run stripe-elt spec --help for its options.');
  });

  it('a mistyped command: the message suggests the command meant', async () => {
    expect(await refused(['lod', '--config', config])).toBe('Unknown argument: lod (did you mean load?). Run stripe-elt --help for the commands.');
  });

  it('an argument a command does not take', async () => {
    expect(await refused(['read', '--config', config, '--catalog', catalog, 'extra-positional'])).toBe(
      'Unknown argument: extra-positional. Run stripe-elt read --help for its options.',
    );
  });

  it('several unknown arguments, in one message', async () => {
    expect(await refused(['discover', '--config', config, '--stat', 'state.json', '--catalogs=x'])).toBe(
      'Unknown arguments: --stat, --catalogs. Run stripe-elt discover --help for its options.',
    );
    expect(await refused(['read', '--config', config, '--catalog', catalog, '--stat', 'state.json', '--catalogs=x'])).toBe(
      'Unknown arguments: --stat (did you mean --state?), --catalogs (did you mean --catalog?). Run stripe-elt read --help for its options.',
    );
  });

  it('a missing required option', async () => {
    expect(await refused(['check'])).toBe('Missing required argument: --config. Run stripe-elt check --help for its options.');
    expect(await refused(['read', '--config', config])).toBe('Missing required argument: --catalog. Run stripe-elt read --help for its options.');
  });

  it('no command at all', async () => {
    expect(await refused([])).toBe(
      'Name a command: spec, check, discover, read, write, load, reset, transform, sync, serve, query or webhooks. Streams: customers, products, prices, coupons, subscriptions, invoices, payment_intents, charges, refunds, disputes, credit_notes, payouts, balance_transactions, transfers, application_fees, accounts, events. Run stripe-elt --help for the commands.',
    );
  });

  it('an API key given where it does not belong is not repeated in the message', async () => {
    const key = ['rk', 'live', 'Zq8Lm3Rt7Vb2Xw9K'].join('_');
    const message = await refused(['check', '--config', config, key]);
    expect(message).toBe('Unknown argument: rk_live_[redacted]. Run stripe-elt check --help for its options.');
  });
});
