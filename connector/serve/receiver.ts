// The HTTP side of `serve`: `POST /webhooks` takes Stripe's deliveries, `GET /healthz` says how the
// process is doing. A delivery is verified (verify.ts) and put in the journal before it is
// answered: 200 once it is on disk, 400 for anything not signed by one of our endpoints (nothing
// of it is kept), 413 for a body over the limit, 503 while stopping (Stripe tries again later).
// An event of the other mode (a live Connect endpoint also receives connected accounts' test
// events) is answered 200 so that Stripe stops sending it, and not kept.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Mode } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EndpointSecret } from '../webhooks/secret-file.js';
import type { Journal } from './journal.js';
import { verifyDelivery } from './verify.js';

/** Stripe's events are far smaller; a larger body is not one of them. */
export const MAX_BODY_BYTES = 1 << 20;

/** How many recent timings /healthz's percentiles are taken over, at least. */
const RECENT_TIMINGS = 10_000;

export interface ReceiverCounts {
  received: number;
  rejected: number;
  otherMode: number;
}

export interface ReceiverOptions {
  readonly journal: Journal;
  readonly secrets: readonly EndpointSecret[];
  readonly mode: Mode;
  readonly logger: Logger;
  readonly health: () => Promise<Record<string, unknown>>;
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body, or null once it is over the limit (the rest is not read). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class WebhookReceiver {
  readonly counts: ReceiverCounts = { received: 0, rejected: 0, otherMode: 0 };
  /** Milliseconds from receipt to durable (in the journal), of the recent deliveries accepted, for /healthz. */
  readonly durableMs: number[] = [];
  private server: Server | undefined;
  private stopping = false;

  constructor(private readonly options: ReceiverOptions) {}

  /** Listens; a port in use is a sentence, before any work. */
  async listen(host: string, port: number): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    // A client that sends its request slowly does not hold a connection for ever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') reject(new UserError(`Port ${port} on ${host} is in use by another program: give another with --port.`));
        else if (error.code === 'EACCES') reject(new UserError(`This user may not listen on port ${port} (ports below 1024 need privileges): give another with --port, behind a proxy that terminates TLS.`));
        else reject(error);
      });
      server.listen(port, host, resolve);
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  /** Stops taking requests; resolves once those in flight are answered. */
  async close(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/healthz' && req.method === 'GET') {
        reply(res, 200, await this.options.health());
        return;
      }
      if (path !== '/webhooks') {
        reply(res, 404, { error: 'not found: Stripe delivers to POST /webhooks; GET /healthz tells how serve is doing' });
        return;
      }
      if (req.method !== 'POST') {
        reply(res, 405, { error: 'POST only' });
        return;
      }
      await this.delivery(req, res);
    } catch (error) {
      this.options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'a request failed');
      if (!res.headersSent) reply(res, 500, { error: 'not kept: try again' });
    }
  }

  private refuse(res: ServerResponse, status: number, reason: string): void {
    this.counts.rejected++;
    this.options.logger.warn({ status, reason }, `Refused a delivery: ${reason}.`);
    reply(res, status, { error: reason });
  }

  private async delivery(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    if (this.stopping) {
      reply(res, 503, { error: 'stopping: Stripe will deliver again' });
      return;
    }
    const body = await readBody(req);
    if (body === null) {
      this.refuse(res, 413, `the body is over ${MAX_BODY_BYTES} bytes`);
      return;
    }
    const signature = req.headers['stripe-signature'];
    const verified = verifyDelivery(body, Array.isArray(signature) ? signature[0] : signature, this.options.secrets);
    if (!verified.ok) {
      this.refuse(res, verified.status, verified.reason);
      return;
    }
    const { event, endpoint } = verified;
    const account = event.account ?? 'platform';
    if (event.livemode !== (this.options.mode === 'live')) {
      this.counts.otherMode++;
      const mode = event.livemode ? 'live' : 'test';
      this.options.logger.info({ event: event.id, type: event.type, account, outcome: 'other mode' }, `Ignored ${event.id}: a ${mode}-mode event, and this warehouse holds ${this.options.mode}-mode data.`);
      reply(res, 200, { ignored: `a ${mode}-mode event; this warehouse holds ${this.options.mode}-mode data` });
      return;
    }
    await this.options.journal.append({ receivedAt: Date.now(), endpoint: endpoint.id, body: body.toString('utf8') });
    this.counts.received++;
    const ms = performance.now() - started;
    this.durableMs.push(ms);
    // The last 10,000 to 20,000: dropping the older half at once costs nothing per request.
    if (this.durableMs.length >= 2 * RECENT_TIMINGS) this.durableMs.splice(0, RECENT_TIMINGS);
    this.options.logger.info({ event: event.id, type: event.type, account, endpoint: endpoint.id, ms: Math.round(ms * 10) / 10 }, 'received');
    reply(res, 200, { received: true });
  }
}
