// The connector's contracts kept in agreement: spec.json with the zod config schema, the
// committed stream schemas with their generator.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigSchema, resolveConfig } from '../../connector/config.js';
import { streamSchemas } from '../../connector/streams/generate-schemas.js';

const ANNOTATIONS = new Set(['title', 'description', 'airbyte_secret', 'order', 'examples']);

/** A schema without its annotations, with patterns written one way. */
function constraints(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(constraints);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !ANNOTATIONS.has(key))
        .map(([key, v]) => [key, key === 'pattern' && typeof v === 'string' ? v.replaceAll('\\/', '/') : constraints(v)])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  }
  return value;
}

describe('spec.json and the zod config schema', () => {
  const spec = JSON.parse(readFileSync('spec.json', 'utf8')) as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
  const zod = z.toJSONSchema(ConfigSchema, { io: 'input' }) as { properties: Record<string, unknown>; required?: string[]; additionalProperties: boolean };

  it('have the same keys, each with the same types, patterns and bounds', () => {
    expect(Object.keys(spec.properties)).toEqual(Object.keys(zod.properties));
    for (const key of Object.keys(spec.properties)) expect(constraints(spec.properties[key]), key).toEqual(constraints(zod.properties[key]));
  });

  it('agree on what is required and that unknown keys are refused', () => {
    expect(spec.required).toEqual(zod.required ?? []);
    expect(spec.additionalProperties).toBe(false);
    expect(zod.additionalProperties).toBe(false);
  });

  it("every key's description is documented in spec.json", () => {
    for (const [key, property] of Object.entries(spec.properties)) expect((property as { description?: string }).description, key).toBeTruthy();
  });

  it("defaults: all connected accounts, a 10-day lookback, half the mode's rate limit, Stripe as the base", () => {
    const test = resolveConfig({ api_key: 'rk_test_x1' }, 'config', {});
    expect(test).toMatchObject({ mode: 'test', keyKind: 'restricted', connectedAccounts: 'all', lookbackWindowDays: 10, maxRequestsPerSecond: 12.5, startDate: undefined });
    expect(test.apiBase.href).toBe('https://api.stripe.com/');
    expect(resolveConfig({ api_key: 'sk_live_x1' }, 'config', {})).toMatchObject({ mode: 'live', keyKind: 'secret', maxRequestsPerSecond: 50 });
    expect(resolveConfig({ api_key: 'rk_test_x1', start_date: '2024-03-01' }, 'config', {}).startDate).toBe(Date.UTC(2024, 2, 1) / 1000);
    expect(resolveConfig({ api_key: 'rk_test_x1', start_date: '2024-03-01T12:00:00' }, 'config', {}).startDate).toBe(Date.UTC(2024, 2, 1, 12) / 1000);
  });
});

describe('stream schemas', () => {
  it('connector/streams/schemas.json is what its generator makes from Stripe samples (npm run schemas)', () => {
    const samples = (JSON.parse(readFileSync('test/fixtures/vendor/stripe_fixtures3.json', 'utf8')) as { resources: Record<string, unknown> }).resources;
    const committed = JSON.parse(readFileSync('connector/streams/schemas.json', 'utf8')) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(streamSchemas(samples))));
  });
});
