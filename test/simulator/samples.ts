// Stripe's official sample objects (vendored), the shape every simulated object follows.
import { readFileSync } from 'node:fs';

const SAMPLES_FILE = new URL('../fixtures/vendor/stripe_fixtures3.json', import.meta.url);

type Sample = Readonly<Record<string, unknown>>;

let cache: Readonly<Record<string, Sample>> | undefined;

export function stripeSamples(): Readonly<Record<string, Sample>> {
  if (!cache) {
    const parsed = JSON.parse(readFileSync(SAMPLES_FILE, 'utf8')) as { resources: Record<string, Sample> };
    cache = parsed.resources;
  }
  return cache;
}

export function stripeSample(resource: string): Sample {
  const sample = stripeSamples()[resource];
  if (!sample) throw new Error(`no Stripe sample object named ${resource}`);
  return sample;
}
