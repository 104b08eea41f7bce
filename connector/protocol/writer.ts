// The only code that writes to stdout: one Airbyte message per line, with backpressure, and with
// API keys scrubbed from every message that carries text (records carry Stripe's data only).
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { scrubSecrets } from '../errors.js';
import type { AirbyteMessage, LogLevel, StreamStatus } from './messages.js';

/**
 * Up to this much output may wait in memory for the reader: enough that reading pages from
 * Stripe does not stall each time the pipe is full, little enough that memory stays flat.
 */
const BUFFER_BYTES = 8 * 1024 * 1024;

export class ProtocolWriter {
  private readonly secrets: string[] = [];
  /** One wait for the reader, shared by every caller that has to wait. */
  private draining: Promise<unknown> | undefined;

  constructor(private readonly out: Writable = process.stdout) {}

  private async write(line: string): Promise<void> {
    this.out.write(line);
    if (this.out.writableLength > BUFFER_BYTES) {
      this.draining ??= once(this.out, 'drain').finally(() => {
        this.draining = undefined;
      });
      await this.draining;
    }
  }

  /** Keys to scrub from every message from now on. */
  addSecret(secret: string): void {
    this.secrets.push(secret);
  }

  async send(message: AirbyteMessage): Promise<void> {
    let line = JSON.stringify(message);
    if (message.type !== 'RECORD') line = scrubSecrets(line, this.secrets);
    await this.write(`${line}\n`);
  }

  /** A record line from data already serialised (the fast path of `read`). */
  async sendRecordJson(stream: string, dataJson: string, emittedAt: number): Promise<void> {
    await this.write(`{"type":"RECORD","record":{"stream":${JSON.stringify(stream)},"data":${dataJson},"emitted_at":${emittedAt}}}\n`);
  }

  log(level: LogLevel, message: string): Promise<void> {
    return this.send({ type: 'LOG', log: { level, message } });
  }

  streamStatus(stream: string, status: StreamStatus): Promise<void> {
    return this.send({
      type: 'TRACE',
      trace: { type: 'STREAM_STATUS', emitted_at: Date.now(), stream_status: { stream_descriptor: { name: stream }, status } },
    });
  }

  error(message: string, failureType: 'system_error' | 'config_error' | 'transient_error', internal?: string, stream?: string): Promise<void> {
    return this.send({
      type: 'TRACE',
      trace: {
        type: 'ERROR',
        emitted_at: Date.now(),
        error: {
          message,
          failure_type: failureType,
          ...(internal ? { internal_message: internal } : {}),
          ...(stream ? { stream_descriptor: { name: stream } } : {}),
        },
      },
    });
  }

  state(stream: string, streamState: Record<string, unknown>, recordCount: number): Promise<void> {
    return this.send({
      type: 'STATE',
      state: {
        type: 'STREAM',
        stream: { stream_descriptor: { name: stream }, stream_state: streamState },
        sourceStats: { recordCount },
      },
    });
  }

  /** Resolves once everything written so far has been handed to the operating system. */
  async flush(): Promise<void> {
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }
}
