// What `webhooks register` made works end to end: the simulator delivers a platform change to the
// platform endpoint and a connected account's change to the Connect endpoint, at our API version,
// each signed with the secret the secret file holds for that endpoint (verified by the SDK).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../connector/stripe/client.js';
import { startSimulator, type RunningSimulator } from '../simulator/index.js';
import { control, listAll, stripeFor } from '../simulator-spec/helpers.js';
import { Receiver } from '../simulator-spec/webhook-receiver.js';
import { finishCli, startCli } from '../cli-process.js';
import { configFor } from './helpers.js';

const WRITE_KEY = 'rk_test_webhooks';

let sim: RunningSimulator;
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'webhook-delivery', objects: 300, accounts: 1, rateLimits: { test: 0, endpoint: 0 }, keys: [`${WRITE_KEY}=*:read,webhook_endpoints:write,connect.*:read`] });
  receiver = await Receiver.start();
  dir = mkdtempSync(join(tmpdir(), 'stripe-elt-webhook-delivery-'));
});
afterAll(async () => {
  await sim.close();
  await receiver.stop();
});

describe('the endpoints register makes', () => {
  it("receive the platform's events and the connected accounts', at our API version, signed with the secrets in the file", async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(configFor(sim, { api_key: WRITE_KEY })));
    const secrets = join(dir, 'secrets.json');
    const registered = await finishCli(startCli(['webhooks', 'register', '--config', config, '--url', receiver.url, '--secret-file', secrets]));
    expect(registered.code).toBe(0);
    const file = (JSON.parse(readFileSync(secrets, 'utf8')) as { endpoints: { connect: boolean; secret: string }[] }).endpoints;
    const platformSecret = file.find((entry) => !entry.connect)?.secret as string;
    const connectSecret = file.find((entry) => entry.connect)?.secret as string;

    const stripe = stripeFor(sim);
    const platform = (await stripe.accounts.retrieveCurrent()).id;
    const [connected] = await listAll(stripe.accounts.list({ limit: 100 }));
    const ownCustomer = (await stripe.customers.list({ limit: 1 })).data[0]?.id;
    const theirCustomer = (await stripe.customers.list({ limit: 1 }, { stripeAccount: connected?.id as string })).data[0]?.id;
    const changed = await control<{ changes: { events: { id: string; type: string }[] }[] }>(sim, 'change', {
      changes: [
        { account: platform, stream: 'customers', id: ownCustomer, update: { name: 'Renamed on the platform' } },
        { account: connected?.id, stream: 'customers', id: theirCustomer, update: { name: 'Renamed on the connected account' } },
      ],
    });
    const [ownEvent, theirEvent] = changed.changes.map((change) => change.events[0]);
    await sim.server.webhooksIdle();

    const webhooks = Stripe.webhooks;
    const byId = new Map(receiver.received.map((received) => [received.event.id, received]));
    expect([...byId.keys()].sort()).toEqual([ownEvent?.id, theirEvent?.id].sort());
    const own = byId.get(ownEvent?.id as string);
    const theirs = byId.get(theirEvent?.id as string);
    const signature = (received: typeof own) => String(received?.headers['stripe-signature']);

    // Each is signed with its own endpoint's secret, and not with the other's.
    const ownVerified = webhooks.constructEvent(own?.body as string, signature(own), platformSecret);
    const theirsVerified = webhooks.constructEvent(theirs?.body as string, signature(theirs), connectSecret);
    expect(() => webhooks.constructEvent(own?.body as string, signature(own), connectSecret)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() => webhooks.constructEvent(theirs?.body as string, signature(theirs), platformSecret)).toThrow(Stripe.errors.StripeSignatureVerificationError);

    expect([ownVerified.type, ownVerified.api_version, ownVerified.account, (ownVerified.data.object as { name: string }).name]).toEqual([
      'customer.updated',
      STRIPE_API_VERSION,
      undefined,
      'Renamed on the platform',
    ]);
    expect([theirsVerified.type, theirsVerified.api_version, theirsVerified.account, (theirsVerified.data.object as { name: string }).name]).toEqual([
      'customer.updated',
      STRIPE_API_VERSION,
      connected?.id,
      'Renamed on the connected account',
    ]);
  });
});
