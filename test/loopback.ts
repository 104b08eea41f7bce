// Loopback addresses for tests of a Stripe that is not there, or not Stripe.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A loopback port nothing listens on: one that was free a moment ago. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const url = await listening(server);
  await new Promise((resolve) => server.close(resolve));
  return Number(new URL(url).port);
}

/** A server on loopback that answers every request with this body, as if it were Stripe. */
export async function fakeStripe(body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
  });
  return { url: await listening(server), server };
}
