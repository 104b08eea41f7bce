// Writes connector/streams/schemas.json: each stream's JSON schema, derived from Stripe's sample
// object of its type (test/fixtures/vendor/stripe_fixtures3.json) plus the fields the connector
// adds. Run with `npm run schemas`; a test checks that the committed file is up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { STREAMS, STREAM_NAMES, type StreamName } from './catalog.js';

type JsonSchema = Record<string, unknown>;

const SAMPLES = new URL('../../test/fixtures/vendor/stripe_fixtures3.json', import.meta.url);
const OUTPUT = new URL('./schemas.json', import.meta.url);

/** A schema for values like `value`: its JSON type or null, recursively for objects and arrays. */
export function schemaOf(value: unknown): JsonSchema {
  if (value === null) return {};
  if (Array.isArray(value)) return { type: ['null', 'array'], items: value.length > 0 ? schemaOf(value[0]) : {} };
  switch (typeof value) {
    case 'string':
      return { type: ['null', 'string'] };
    case 'boolean':
      return { type: ['null', 'boolean'] };
    case 'number':
      return { type: ['null', Number.isInteger(value) ? 'integer' : 'number'] };
    case 'object': {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) return { type: ['null', 'object'] };
      // An expandable field shown expanded ({id, object}) arrives as a plain id unless expanded.
      const keys = entries.map(([k]) => k).sort().join(',');
      if (keys === 'id,object') return { type: ['null', 'string', 'object'] };
      return { type: ['null', 'object'], properties: Object.fromEntries(entries.map(([k, v]) => [k, schemaOf(v)])) };
    }
    default:
      return {};
  }
}

const ADDED_FIELDS: Record<string, JsonSchema> = {
  account_id: { type: 'string', description: 'The Stripe account the object belongs to: the platform, or a connected account.' },
  observed_at: { type: 'integer', description: 'Unix time at which Stripe reported this state: the event time, or the time the object was read. The newest state has the largest value.' },
  deleted: { type: 'boolean', description: 'Present and true when the object was deleted in Stripe; the record holds its last state.' },
};

export function streamSchemas(samples: Record<string, unknown>): Record<StreamName, JsonSchema> {
  const out = {} as Record<StreamName, JsonSchema>;
  for (const name of STREAM_NAMES) {
    const definition = STREAMS[name];
    const sample = samples[definition.objectType] as Record<string, unknown>;
    const properties: Record<string, JsonSchema> = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, schemaOf(v)]));
    properties.id = { type: 'string' };
    properties.created = { type: 'integer' };
    if (name === 'events') {
      // An event's object is of any type, rendered at the event's API version.
      properties.data = { type: 'object', properties: { object: { type: 'object' }, previous_attributes: { type: ['null', 'object'] } } };
      properties.account = { type: ['null', 'string'] };
    }
    if (definition.addsLivemode) properties.livemode = { type: 'boolean', description: "Added by the connector from the key's mode: Stripe's objects of this type have none." };
    Object.assign(properties, ADDED_FIELDS);
    out[name] = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      description: definition.description,
      additionalProperties: true,
      required: ['id', 'account_id', 'observed_at'],
      properties,
    };
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const samples = (JSON.parse(readFileSync(SAMPLES, 'utf8')) as { resources: Record<string, unknown> }).resources;
  writeFileSync(OUTPUT, `${JSON.stringify(streamSchemas(samples), null, 1)}\n`);
  process.stdout.write(`wrote ${OUTPUT.pathname}\n`);
}
