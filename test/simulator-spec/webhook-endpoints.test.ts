// The webhook endpoints API (/v1/webhook_endpoints) through the real stripe SDK: create, list,
// retrieve, update, delete, Stripe's validation errors and the key's permissions.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, TEST_NOW, type RunningSimulator } from '../simulator/index.js';
import { failure, listAll, stripeFor } from './helpers.js';

let sim: RunningSimulator;
let secretKey: Stripe;
let platformId: string;

beforeAll(async () => {
  sim = await startSimulator({
    objects: 300,
    accounts: 1,
    modes: ['test', 'live'],
    rateLimits: { test: 0, live: 0, endpoint: 0 },
    keys: ['rk_test_hooks=*:read,webhook_endpoints:write', 'rk_test_nohooks=*:read,webhook_endpoints:none'],
  });
  secretKey = stripeFor(sim, 'sk_test_simulator');
  platformId = (await secretKey.accounts.retrieveCurrent()).id;
});
afterAll(() => sim.close());

async function endpointIds(stripe: Stripe = secretKey): Promise<string[]> {
  return (await listAll(stripe.webhookEndpoints.list({ limit: 100 }))).map((e) => e.id);
}

describe('creating an endpoint', () => {
  it('returns the whole object with its secret, which list and retrieve never show', async () => {
    const created = await secretKey.webhookEndpoints.create({
      url: 'https://example.com/hooks',
      enabled_events: ['charge.succeeded', 'customer.updated'],
      description: 'platform events',
      metadata: { team: 'data' },
    });
    expect(created).toEqual({
      api_version: null,
      application: null,
      created: TEST_NOW,
      description: 'platform events',
      enabled_events: ['charge.succeeded', 'customer.updated'],
      id: expect.stringMatching(/^we_[0-9A-Za-z]{24}$/),
      livemode: false,
      metadata: { team: 'data' },
      object: 'webhook_endpoint',
      secret: expect.stringMatching(/^whsec_[0-9A-Za-z]{32}$/),
      status: 'enabled',
      url: 'https://example.com/hooks',
    });
    const { secret, ...shown } = created;
    const retrieved = await secretKey.webhookEndpoints.retrieve(created.id);
    expect(retrieved).toEqual(shown);
    expect('secret' in retrieved).toBe(false);
    const listed = (await listAll(secretKey.webhookEndpoints.list())).find((e) => e.id === created.id);
    expect(listed).toEqual(shown);
    const raw = await fetch(`${sim.url}/v1/webhook_endpoints`, { headers: { authorization: 'Bearer sk_test_simulator' } });
    expect(await raw.text()).not.toContain(secret as string);
  });

  it('gives each endpoint its own secret and keeps api_version; connect is not an attribute', async () => {
    const a = await secretKey.webhookEndpoints.create({ url: 'https://example.com/a', enabled_events: ['*'], connect: true, api_version: '2024-06-20' });
    const b = await secretKey.webhookEndpoints.create({ url: 'https://example.com/a', enabled_events: ['*'], connect: true, api_version: '2024-06-20' });
    expect(a.secret).not.toBe(b.secret);
    expect(a.id).not.toBe(b.id);
    expect(a.api_version).toBe('2024-06-20');
    expect(Object.keys(await secretKey.webhookEndpoints.retrieve(a.id)).sort()).toEqual(
      ['api_version', 'application', 'created', 'description', 'enabled_events', 'id', 'livemode', 'metadata', 'object', 'status', 'url'],
    );
  });

  it('keeps endpoints apart by mode: a live key sees only live endpoints, with livemode true', async () => {
    const live = stripeFor(sim, 'sk_live_simulator');
    const test = await secretKey.webhookEndpoints.create({ url: 'https://example.com/test-only', enabled_events: ['*'] });
    const created = await live.webhookEndpoints.create({ url: 'https://example.com/live', enabled_events: ['*'] });
    expect(created.livemode).toBe(true);
    expect(await endpointIds(live)).toEqual([created.id]);
    expect(await endpointIds()).not.toContain(created.id);
    const error = await failure(live.webhookEndpoints.retrieve(test.id));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('resource_missing');
    expect(error.message).toBe(
      `No such webhook_endpoint: '${test.id}'; a similar object exists in test mode, but a live mode key was used to make this request.`,
    );
  });
});

describe('permissions', () => {
  it('a key with Read only on webhook endpoints may list but not create: 403 naming rak_webhook_write', async () => {
    const before = await endpointIds();
    const readOnly = stripeFor(sim, 'rk_test_simulator');
    expect((await listAll(readOnly.webhookEndpoints.list())).length).toBe(before.length);
    const error = await failure(readOnly.webhookEndpoints.create({ url: 'https://example.com/x', enabled_events: ['*'] }));
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.statusCode).toBe(403);
    expect(error.message).toBe(
      `The provided key 'rk_test_****ator' does not have the required permissions for this endpoint on account '${platformId}'. Having the 'rak_webhook_write' permission would allow this request to continue.`,
    );
    const id = before[0] as string;
    const update = await failure(readOnly.webhookEndpoints.update(id, { description: 'x' }));
    expect(update.message).toContain("'rak_webhook_write'");
    const remove = await failure(readOnly.webhookEndpoints.del(id));
    expect(remove.message).toContain("'rak_webhook_write'");
    expect(await endpointIds()).toEqual(before);
  });

  it('a key without webhook endpoints gets 403 naming rak_webhook_read on list and retrieve', async () => {
    const none = stripeFor(sim, 'rk_test_nohooks');
    const error = await failure(none.webhookEndpoints.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.message).toBe(
      `The provided key 'rk_test_****ooks' does not have the required permissions for this endpoint on account '${platformId}'. Having the 'rak_webhook_read' permission would allow this request to continue.`,
    );
    expect((await failure(none.webhookEndpoints.retrieve((await endpointIds())[0] as string))).message).toContain("'rak_webhook_read'");
  });

  it('a restricted key with Write on webhook endpoints creates, updates and deletes', async () => {
    const writer = stripeFor(sim, 'rk_test_hooks');
    const created = await writer.webhookEndpoints.create({ url: 'https://example.com/rk', enabled_events: ['customer.created'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect((await writer.webhookEndpoints.update(created.id, { description: 'by rk' })).description).toBe('by rk');
    expect(await writer.webhookEndpoints.del(created.id)).toEqual({ id: created.id, object: 'webhook_endpoint', deleted: true });
  });

  it('refuses a Stripe-Account header: endpoints live on the platform only', async () => {
    const [connected] = (await secretKey.accounts.list()).data;
    const error = await failure(
      secretKey.webhookEndpoints.create({ url: 'https://example.com/c', enabled_events: ['*'] }, { stripeAccount: (connected as Stripe.Account).id }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe(
      "The simulator keeps webhook endpoints on the platform only: send this request without the Stripe-Account header, and create the endpoint with connect=true to receive the connected accounts' events.",
    );
  });
});

describe('validation', () => {
  const cases: [string, Record<string, unknown>, { code: string; param: string; message: string }][] = [
    ['no url', { enabled_events: ['*'] }, { code: 'parameter_missing', param: 'url', message: 'Missing required param: url.' }],
    ['no enabled_events', { url: 'https://example.com/h' }, { code: 'parameter_missing', param: 'enabled_events', message: 'Missing required param: enabled_events.' }],
    [
      'an empty url',
      { url: '', enabled_events: ['*'] },
      {
        code: 'parameter_invalid_empty',
        param: 'url',
        message: "You passed an empty string for 'url'. We assume empty values are an attempt to unset a parameter; however 'url' cannot be unset. You should remove 'url' from your request or supply a non-empty value.",
      },
    ],
    ['a url that is not one', { url: 'example.com/h', enabled_events: ['*'] }, { code: 'url_invalid', param: 'url', message: 'Not a valid URL' }],
    ['a url of another scheme', { url: 'ftp://example.com/h', enabled_events: ['*'] }, { code: 'url_invalid', param: 'url', message: 'Not a valid URL' }],
    [
      'a malformed event type',
      { url: 'https://example.com/h', enabled_events: ['charge.succeeded', 'Charge Succeeded'] },
      { code: 'parameter_invalid_string', param: 'enabled_events[1]', message: "Invalid enabled_events[1]: must be '*' or an event type such as charge.succeeded (got 'Charge Succeeded')" },
    ],
    ['a malformed api_version', { url: 'https://example.com/h', enabled_events: ['*'], api_version: 'latest' }, { code: 'parameter_invalid_string', param: 'api_version', message: 'Invalid api_version: latest' }],
    ['an unknown parameter', { url: 'https://example.com/h', enabled_events: ['*'], status: 'enabled' }, { code: 'parameter_unknown', param: 'status', message: 'Received unknown parameter: status' }],
  ];
  for (const [what, params, expected] of cases) {
    it(`refuses ${what} with Stripe's 400 and creates nothing`, async () => {
      const before = await endpointIds();
      const error = await failure(secretKey.webhookEndpoints.create(params as unknown as Stripe.WebhookEndpointCreateParams));
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error.statusCode).toBe(400);
      expect({ code: error.code, param: error.param, message: error.message }).toEqual(expected);
      expect(await endpointIds()).toEqual(before);
    });
  }

  it('refuses connect that is not a boolean (form-encoded as the SDK sends it)', async () => {
    const response = await fetch(`${sim.url}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_simulator', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'url=https%3A%2F%2Fexample.com%2Fh&enabled_events[0]=*&connect=yes',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: 'parameter_invalid_boolean', param: 'connect' });
  });
});

describe('updating and deleting', () => {
  it('updates url, enabled_events, description, metadata (merged) and status, and refuses connect or api_version', async () => {
    const created = await secretKey.webhookEndpoints.create({
      url: 'https://example.com/old',
      enabled_events: ['charge.succeeded'],
      description: 'old',
      metadata: { keep: 'yes', drop: 'soon' },
    });
    const updated = await secretKey.webhookEndpoints.update(created.id, {
      url: 'https://example.com/new',
      enabled_events: ['invoice.paid', 'invoice.created'],
      description: '',
      metadata: { drop: '', added: '1' },
      disabled: true,
    });
    const { secret: _secret, ...unchanged } = created;
    expect(updated).toEqual({
      ...unchanged,
      url: 'https://example.com/new',
      enabled_events: ['invoice.paid', 'invoice.created'],
      description: null,
      metadata: { keep: 'yes', added: '1' },
      status: 'disabled',
    });
    expect((await secretKey.webhookEndpoints.update(created.id, { metadata: '' })).metadata).toEqual({});
    expect((await secretKey.webhookEndpoints.update(created.id, { disabled: false })).status).toBe('enabled');
    const connect = await failure(secretKey.webhookEndpoints.update(created.id, { connect: true } as Stripe.WebhookEndpointUpdateParams));
    expect({ code: connect.code, param: connect.param }).toEqual({ code: 'parameter_unknown', param: 'connect' });
    const version = await failure(secretKey.webhookEndpoints.update(created.id, { api_version: '2024-06-20' } as Stripe.WebhookEndpointUpdateParams));
    expect({ code: version.code, param: version.param }).toEqual({ code: 'parameter_unknown', param: 'api_version' });
    const badUrl = await failure(secretKey.webhookEndpoints.update(created.id, { url: 'nope', description: 'not saved' }));
    expect(badUrl.code).toBe('url_invalid');
    expect((await secretKey.webhookEndpoints.retrieve(created.id)).description).toBeNull();
  });

  it('deletes: the answer is the deleted stub, then retrieve is 404 and list leaves it out', async () => {
    const created = await secretKey.webhookEndpoints.create({ url: 'https://example.com/bye', enabled_events: ['*'] });
    expect(await secretKey.webhookEndpoints.del(created.id)).toEqual({ id: created.id, object: 'webhook_endpoint', deleted: true });
    const error = await failure(secretKey.webhookEndpoints.retrieve(created.id));
    expect(error.statusCode).toBe(404);
    expect({ code: error.code, param: error.param, message: error.message }).toEqual({
      code: 'resource_missing',
      param: 'id',
      message: `No such webhook_endpoint: '${created.id}'`,
    });
    expect(await endpointIds()).not.toContain(created.id);
    expect((await failure(secretKey.webhookEndpoints.del(created.id))).statusCode).toBe(404);
  });
});

describe('listing', () => {
  it('pages newest first with limit and starting_after, as every Stripe list', async () => {
    const all = await endpointIds();
    expect(all.length).toBeGreaterThanOrEqual(4);
    const first = await secretKey.webhookEndpoints.list({ limit: 2 });
    expect(first.data.map((e) => e.id)).toEqual(all.slice(0, 2));
    expect(first.has_more).toBe(true);
    const second = await secretKey.webhookEndpoints.list({ limit: 2, starting_after: all[1] as string });
    expect(second.data.map((e) => e.id)).toEqual(all.slice(2, 4));
    const created = await secretKey.webhookEndpoints.create({ url: 'https://example.com/newest', enabled_events: ['*'] });
    expect((await endpointIds())[0]).toBe(created.id);
    const error = await failure(secretKey.webhookEndpoints.list({ created: 1 } as Stripe.WebhookEndpointListParams));
    expect({ code: error.code, param: error.param }).toEqual({ code: 'parameter_unknown', param: 'created' });
  });
});
