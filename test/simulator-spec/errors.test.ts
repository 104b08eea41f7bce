// Stripe's errors, as the real stripe SDK sees them: status, type, code, message and error class.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, failure, stripeFor } from './helpers.js';

let sim: RunningSimulator;
let connectedIds: string[];

beforeAll(async () => {
  sim = await startSimulator({
    objects: 2000,
    accounts: 2,
    modes: ['test', 'live'],
    keys: ['rk_test_nocharges=*:read,charges:none,connect.*:read', 'rk_test_noconnect=*:read'],
  });
  connectedIds = (await stripeFor(sim).accounts.list()).data.map((a) => a.id);
});
afterAll(() => sim.close());

describe('authentication', () => {
  it('a request without a key gets 401 asking for Bearer auth', async () => {
    const response = await fetch(`${sim.url}/v1/customers`);
    expect(response.status).toBe(401);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^You did not provide an API key\. .*Bearer auth/);
  });

  it('an unknown key gets StripeAuthenticationError naming only its last four characters', async () => {
    const error = await failure(stripeFor(sim, 'rk_test_notarealkey1234').customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
    expect(error.type).toBe('StripeAuthenticationError');
    expect(error.code).toBeUndefined();
    expect(error.message).toBe('Invalid API Key provided: rk_test_****1234');
    expect(error.requestId).toMatch(/^req_/);
  });

  it('an expired key gets 401 with code api_key_expired', async () => {
    await fetch(`${sim.url}/_sim/keys`, { method: 'POST', body: JSON.stringify({ definition: 'rk_test_rolled9999=*:read' }) });
    await control(sim, 'faults', { expire_keys: ['rk_test_rolled9999'] });
    const error = await failure(stripeFor(sim, 'rk_test_rolled9999').customers.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.code).toBe('api_key_expired');
    expect(error.message).toBe('Expired API Key provided: rk_test_****9999');
  });

  it('a key revoked at run time stops working at once', async () => {
    await fetch(`${sim.url}/_sim/keys`, { method: 'POST', body: JSON.stringify({ definition: 'rk_test_revokeme42=*:read' }) });
    const stripe = stripeFor(sim, 'rk_test_revokeme42');
    await stripe.customers.list({ limit: 1 });
    await control(sim, 'faults', { revoke_keys: ['rk_test_revokeme42'] });
    const error = await failure(stripe.customers.list({ limit: 1 }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.message).toBe('Invalid API Key provided: rk_test_****me42');
  });
});

describe('permissions', () => {
  it('a restricted key without a resource permission gets StripePermissionError naming the permission', async () => {
    const platform = (await stripeFor(sim).accounts.retrieveCurrent()).id;
    const error = await failure(stripeFor(sim, 'rk_test_nocharges').charges.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.statusCode).toBe(403);
    expect(error.message).toBe(
      `The provided key 'rk_test_****rges' does not have the required permissions for this endpoint on account '${platform}'. Having the 'rak_charge_read' permission would allow this request to continue.`,
    );
    // Other resources stay readable with the same key.
    expect((await stripeFor(sim, 'rk_test_nocharges').customers.list({ limit: 1 })).data).toHaveLength(1);
  });

  it('a restricted key without Connect permissions cannot act for a connected account', async () => {
    const error = await failure(stripeFor(sim, 'rk_test_noconnect').customers.list({}, { stripeAccount: connectedIds[0] as string }));
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.message).toBe(
      'You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions.',
    );
  });

  it('a restricted key without Connect permissions cannot list connected accounts', async () => {
    const error = await failure(stripeFor(sim, 'rk_test_noconnect').accounts.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.message).toContain("'rak_connected_account_read'");
  });

  it('a Stripe-Account that is not connected gets 403 account_invalid', async () => {
    const error = await failure(stripeFor(sim).customers.list({}, { stripeAccount: 'acct_1NotConnected00' }));
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.code).toBe('account_invalid');
    expect(error.message).toBe(
      "The provided key 'rk_test_****ator' does not have access to account 'acct_1NotConnected00' (or that account does not exist). Application access may have been revoked.",
    );
  });
});

describe('objects and parameters', () => {
  it('retrieving an unknown id gets 404 resource_missing as StripeInvalidRequestError', async () => {
    const error = await failure(stripeFor(sim).charges.retrieve('ch_doesnotexist'));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('resource_missing');
    expect(error.param).toBe('id');
    expect(error.message).toBe("No such charge: 'ch_doesnotexist'");
  });

  it('retrieving a live object with a test key says a similar object exists in live mode', async () => {
    const [liveCustomer] = (await stripeFor(sim, 'rk_live_simulator').customers.list({ limit: 1 })).data;
    const error = await failure(stripeFor(sim).customers.retrieve(liveCustomer?.id as string));
    expect(error.statusCode).toBe(404);
    expect(error.message).toBe(
      `No such customer: '${liveCustomer?.id}'; a similar object exists in live mode, but a test mode key was used to make this request.`,
    );
  });

  it('an object of one connected account is missing for another', async () => {
    const [a, b] = connectedIds as [string, string];
    const [customer] = (await stripeFor(sim).customers.list({ limit: 1 }, { stripeAccount: a })).data;
    const error = await failure(stripeFor(sim).customers.retrieve(customer?.id as string, {}, { stripeAccount: b }));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('resource_missing');
  });

  it.each([
    [0, 'This value must be greater than or equal to 1.'],
    [101, 'This value must be less than or equal to 100.'],
  ])('limit=%i gets 400 on param limit', async (limit, message) => {
    const error = await failure(stripeFor(sim).customers.list({ limit }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe('limit');
    expect(error.message).toBe(message);
  });

  it('an unknown parameter gets 400 parameter_unknown', async () => {
    const error = await failure(stripeFor(sim).customers.list({ colour: 'blue' } as never));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('parameter_unknown');
    expect(error.message).toBe('Received unknown parameter: colour');
  });

  it('starting_after and ending_before together get 400', async () => {
    const [customer] = (await stripeFor(sim).customers.list({ limit: 1 })).data;
    const id = customer?.id as string;
    const error = await failure(stripeFor(sim).customers.list({ starting_after: id, ending_before: id }));
    expect(error.statusCode).toBe(400);
  });

  it('a cursor that is not an object of the list gets 400 resource_missing on that param', async () => {
    const error = await failure(stripeFor(sim).customers.list({ starting_after: 'cus_nosuchthing' }));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('resource_missing');
    expect(error.param).toBe('starting_after');
  });

  it('a non-integer created bound gets 400', async () => {
    const error = await failure(stripeFor(sim).charges.list({ created: { gte: 'yesterday' as never } }));
    expect(error.statusCode).toBe(400);
    expect(error.param).toBe('created[gte]');
    expect(error.message).toBe('Invalid integer: yesterday');
  });

  it('an unknown URL gets 404 Unrecognized request URL', async () => {
    const response = await fetch(`${sim.url}/v1/nonsense`, { headers: { Authorization: 'Bearer sk_test_simulator' } });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/nonsense\)/);
  });

  it('every response carries a Request-Id, errors included', async () => {
    const paths = ['/v1/customers', '/v1/customers/cus_missing', '/v1/nonsense', '/v1/customers?limit=500'];
    for (const path of paths) {
      const response = await fetch(`${sim.url}${path}`, { headers: { Authorization: 'Bearer rk_test_simulator' } });
      expect(response.headers.get('request-id'), path).toMatch(/^req_[0-9a-f]{14}$/);
    }
  });

  it('a test key against data that exists only in live mode sees nothing', async () => {
    const liveOnly = await startSimulator({ objects: 1000, accounts: 1, modes: ['live'] });
    try {
      const test = stripeFor(liveOnly);
      expect((await test.customers.list()).data).toEqual([]);
      expect((await test.charges.list()).data).toEqual([]);
      expect((await test.accounts.list()).data).toEqual([]);
      expect((await stripeFor(liveOnly, 'rk_live_simulator').customers.list()).data.length).toBeGreaterThan(0);
    } finally {
      await liveOnly.close();
    }
  });
});
