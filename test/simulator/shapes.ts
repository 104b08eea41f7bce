// Data shapes: other ways a simulated world's objects can be spread over streams and over time
// than the default business (steady arrivals; a platform that sells like its accounts), for
// benchmarks that must not depend on one shape of data. Chosen by name (`--shape`); a world
// without a shape is exactly the default one.
import type { Rng } from './random.js';

const DAY = 86_400;

/** When the next of a series of arrivals (customers, repeat purchases) comes, given their mean gap. */
export type NextArrival = (now: number, meanGap: number, rng: Rng) => number;

export interface DataShape {
  readonly description: string;
  /** The platform's own sales, relative to a connected account of weight 1 (default 1). */
  readonly platformWeight?: number;
  /** Every connected account's application fee rate (default: each its own, some none). */
  readonly applicationFeeRate?: number;
  /** A new arrival process for each series of arrivals (default: arrivals at random, one at a time). */
  readonly arrivals?: () => NextArrival;
}

/**
 * Arrivals come `size` in one second (flash sales), at the same mean rate: each burst stands where
 * the middle one of `size` arrivals at random would have come.
 */
function bursts(size: number): () => NextArrival {
  return () => {
    let left = 0;
    let first = true;
    return (now, meanGap, rng) => {
      if (left > 0) {
        left--;
        return now;
      }
      left = size - 1;
      let gap = 0;
      for (let i = 0, n = first ? size / 2 : size; i < n; i++) gap += rng.exponential(meanGap);
      first = false;
      return now + gap;
    };
  };
}

/**
 * Arrivals only during the first `openDays` of every `openDays + closedDays` (seasons), at the
 * same mean rate: the business's clock runs only while it is open.
 */
function seasons(openDays: number, closedDays: number): () => NextArrival {
  const open = openDays * DAY;
  const period = (openDays + closedDays) * DAY;
  return () => (now, meanGap, rng) => {
    let left = rng.exponential((meanGap * open) / period);
    let t = now;
    for (;;) {
      const phase = ((t % period) + period) % period;
      if (phase >= open) {
        t += period - phase;
        continue;
      }
      if (left <= open - phase) return t + left;
      left -= open - phase;
      t += open - phase;
    }
  };
}

export const SHAPES = {
  'fees-platform': {
    description: "a platform that sells nothing itself and takes a fee on every connected account's charge: its objects are application fees and their balance transactions",
    platformWeight: 0,
    applicationFeeRate: 0.05,
  },
  bursts: {
    description: 'customers and purchases arrive 150 in the same second (flash sales), the same number over the history',
    arrivals: bursts(150),
  },
  'quiet-gaps': {
    description: 'customers and purchases arrive only 5 days in every 60 (seasons), with long quiet gaps between',
    arrivals: seasons(5, 55),
  },
} as const satisfies Record<string, DataShape>;

export type ShapeName = keyof typeof SHAPES;

export const SHAPE_NAMES = Object.keys(SHAPES) as ShapeName[];
