// `make demo` (until the connector exists): starts a simulated Connect platform and shows,
// through the real stripe SDK, what the platform and its connected accounts hold.
import Stripe from 'stripe';
import { startSimulator, TEST_NOW } from '../simulator/index.js';

const sim = await startSimulator({ seed: 'demo', now: TEST_NOW, objects: 100_000, accounts: 20, modes: ['test'], rateLimits: { test: 0, endpoint: 0 } });
const stripe = new Stripe('rk_test_simulator', { host: '127.0.0.1', port: sim.port, protocol: 'http', maxNetworkRetries: 0 });
const money = (amount: number, currency: string) =>
  ['jpy', 'krw'].includes(currency) ? `${amount} ${currency.toUpperCase()}` : `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;

try {
  const platform = await stripe.accounts.retrieveCurrent();
  console.log(`Simulated Stripe at ${sim.url}`);
  console.log(`Platform ${platform.id} (${platform.business_profile?.name}), key rk_test_simulator\n`);
  const accounts: Stripe.Account[] = [];
  for await (const account of stripe.accounts.list({ limit: 100 })) accounts.push(account);
  console.log(`${'account'.padEnd(22)} ${'business'.padEnd(30)} ${'customers'.padStart(9)} ${'charges'.padStart(8)} ${'volume (succeeded)'.padStart(22)}`);
  for (const account of [platform, ...accounts]) {
    const options = account.id === platform.id ? {} : { stripeAccount: account.id };
    let customers = 0;
    for await (const _ of stripe.customers.list({ limit: 100 }, options)) customers++;
    let charges = 0;
    let volume = 0;
    for await (const charge of stripe.charges.list({ limit: 100 }, options)) {
      charges++;
      if (charge.status === 'succeeded') volume += charge.amount;
    }
    const name = account.business_profile?.name ?? '';
    console.log(`${account.id.padEnd(22)} ${name.slice(0, 30).padEnd(30)} ${String(customers).padStart(9)} ${String(charges).padStart(8)} ${money(volume, account.default_currency ?? 'usd').padStart(22)}`);
  }
  const [latest] = (await stripe.events.list({ limit: 1 })).data;
  console.log(`\nNewest platform event: ${latest?.type} (${latest?.id}), API version ${latest?.api_version}`);
  console.log('Start your own with: npm run simulator -- --port 12111 --accounts 20 --objects 100000');
} finally {
  await sim.close();
}
