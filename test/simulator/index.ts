// Starting a simulator from a test or a script, in this process.
import { SimulatorServer, type SimulatorOptions } from './server.js';
import { DAY } from './world.js';

export { SimulatorServer, type SimulatorOptions } from './server.js';

/** A fixed "now" so that tests see the same data every day: 2026-11-01T00:00:00Z. */
export const TEST_NOW = Date.UTC(2026, 10, 1) / 1000;

export interface RunningSimulator {
  readonly url: string;
  readonly port: number;
  readonly server: SimulatorServer;
  close(): Promise<void>;
}

export const SMALL_WORLD: SimulatorOptions = {
  seed: 'test',
  now: TEST_NOW,
  days: 400,
  objects: 3000,
  accounts: 3,
  modes: ['test'],
};

export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const server = new SimulatorServer({ ...SMALL_WORLD, ...options });
  const url = await server.listen(0);
  return { url, port: Number(new URL(url).port), server, close: () => server.close() };
}

export { DAY };
