// Injected trouble: latency, server errors, lock timeouts and dropped connections, in shares of
// requests drawn from a seeded generator so that a run can be repeated.
import { Rng } from './random.js';

export interface FaultSettings {
  /** Added to every API response, in milliseconds. */
  latencyMs: number;
  /** Up to this many more milliseconds, uniformly. */
  jitterMs: number;
  /** Share of requests answered with a 500. */
  errorRate: number;
  /** Share of requests answered with a 429 lock_timeout. */
  lockTimeoutRate: number;
  /** Share of requests whose connection is closed with no response. */
  dropRate: number;
}

export const NO_FAULTS: FaultSettings = { latencyMs: 0, jitterMs: 0, errorRate: 0, lockTimeoutRate: 0, dropRate: 0 };

export type FaultOutcome = 'none' | 'error' | 'lock_timeout' | 'drop';

export class Faults {
  private settings: FaultSettings;
  private readonly rng: Rng;

  constructor(settings: Partial<FaultSettings> = {}, seed = 'faults') {
    this.settings = validate({ ...NO_FAULTS, ...settings });
    this.rng = new Rng(seed);
  }

  get current(): FaultSettings {
    return { ...this.settings };
  }

  configure(settings: Partial<FaultSettings>): void {
    this.settings = validate({ ...this.settings, ...settings });
  }

  delayMs(): number {
    const { latencyMs, jitterMs } = this.settings;
    return latencyMs + (jitterMs > 0 ? this.rng.next() * jitterMs : 0);
  }

  /** What happens to the next request. */
  draw(): FaultOutcome {
    const { errorRate, lockTimeoutRate, dropRate } = this.settings;
    if (errorRate + lockTimeoutRate + dropRate === 0) return 'none';
    const r = this.rng.next();
    if (r < errorRate) return 'error';
    if (r < errorRate + lockTimeoutRate) return 'lock_timeout';
    if (r < errorRate + lockTimeoutRate + dropRate) return 'drop';
    return 'none';
  }
}

function validate(settings: FaultSettings): FaultSettings {
  for (const [name, value] of Object.entries(settings)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`fault setting ${name} must be a number ≥ 0`);
  }
  const shares = settings.errorRate + settings.lockTimeoutRate + settings.dropRate;
  if (shares > 1) throw new Error('the shares of errors, lock timeouts and drops add up to more than 1');
  return settings;
}
