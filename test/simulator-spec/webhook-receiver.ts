// A webhook receiver for the simulator's tests: a node:http server on loopback that keeps every
// request it gets and answers with the status the test chooses.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  readonly event: { id: string; type: string; api_version: string; account?: string; data: { object: Record<string, unknown> } };
}

/** The status for the n-th request (0-based), or 'hang' to never answer it. */
export type Answer = (n: number, received: Received) => number | 'hang';

export class Receiver {
  readonly received: Received[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Listens on `port` (0: any free one) of 127.0.0.1. */
  static async start(answer: Answer = () => 200, port = 0): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received: Received = { body, headers: request.headers, event: JSON.parse(body) as Received['event'] };
        const list = (receiver as Receiver).received;
        list.push(received);
        const status = answer(list.length - 1, received);
        if (status === 'hang') return;
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(status < 300 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`);
    return receiver;
  }

  /** The ids of the events received, in the order they came (repeats kept). */
  get eventIds(): string[] {
    return this.received.map((r) => r.event.id);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
