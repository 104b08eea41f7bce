// Shared by the simulator's tests: a Stripe client for a running simulator, and its truth.
import Stripe from 'stripe';
import type { RunningSimulator } from '../simulator/index.js';

export function stripeFor(sim: RunningSimulator, key = 'rk_test_simulator', options: Partial<Stripe.StripeConfig> = {}): Stripe {
  return new Stripe(key, { host: '127.0.0.1', port: sim.port, protocol: 'http', maxNetworkRetries: 0, ...options });
}

export interface TruthLine {
  stream: string;
  account_id: string;
  id: string;
  deleted: boolean;
  object: Record<string, unknown> & { id: string; created?: number };
}

export async function truth(sim: RunningSimulator, mode: 'test' | 'live' = 'test'): Promise<TruthLine[]> {
  const response = await fetch(`${sim.url}/_sim/truth?mode=${mode}`);
  if (!response.ok) throw new Error(`truth: ${response.status}`);
  const text = await response.text();
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as TruthLine);
}

export async function control<T = Record<string, unknown>>(sim: RunningSimulator, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${sim.url}/_sim/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  const value = (await response.json()) as T;
  if (!response.ok) throw new Error(`/_sim/${path}: ${JSON.stringify(value)}`);
  return value;
}

/** Every object of a list endpoint, read page by page with the SDK's auto-pagination. */
export async function listAll<T>(list: Stripe.ApiListPromise<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of list) out.push(item);
  return out;
}

/** The error a request fails with; throws if it succeeds. */
export async function failure(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    return error as Stripe.errors.StripeError;
  }
  throw new Error('expected the request to fail');
}
