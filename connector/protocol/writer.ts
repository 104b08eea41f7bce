// Where Airbyte messages go. `read` prints them as JSON lines on stdout (JsonLinesSink, the only
// code that writes to stdout); `load` hands them straight to a warehouse loader. ProtocolWriter
// is what the commands use either way: it builds the messages and scrubs API keys from every
// message that carries text (records carry Stripe's data only, states our ids and times).
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { scrubSecrets, type FailureType } from '../errors.js';
import type { AirbyteMessage, LogLevel, StreamStatus } from './messages.js';

export interface MessageSink {
  write(message: AirbyteMessage): Promise<void>;
  /** Resolves once everything written so far has been handed on. */
  flush(): Promise<void>;
}

/**
 * Up to this much output may wait in memory for the reader: enough that reading pages from
 * Stripe does not stall each time the pipe is full, little enough that memory stays flat.
 */
const BUFFER_BYTES = 8 * 1024 * 1024;

/** One message per line on a stream (stdout), with backpressure. */
export class JsonLinesSink implements MessageSink {
  /** One wait for the reader, shared by every caller that has to wait. */
  private draining: Promise<unknown> | undefined;

  constructor(private readonly out: Writable = process.stdout) {}

  async write(message: AirbyteMessage): Promise<void> {
    this.out.write(`${JSON.stringify(message)}\n`);
    if (this.out.writableLength > BUFFER_BYTES) {
      this.draining ??= once(this.out, 'drain').finally(() => {
        this.draining = undefined;
      });
      await this.draining;
    }
  }

  async flush(): Promise<void> {
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }
}

export class ProtocolWriter {
  private readonly secrets = new Set<string>();

  constructor(readonly sink: MessageSink) {}

  /** Keys to scrub from every message from now on. */
  addSecret(secret: string): void {
    this.secrets.add(secret);
  }

  send(message: AirbyteMessage): Promise<void> {
    // States are the most frequent of the others and hold every account's progress: passed as they are.
    if (message.type === 'RECORD' || message.type === 'STATE') return this.sink.write(message);
    return this.sink.write(JSON.parse(scrubSecrets(JSON.stringify(message), [...this.secrets])) as AirbyteMessage);
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

  error(message: string, failureType: FailureType, internal?: string, stream?: string): Promise<void> {
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

  flush(): Promise<void> {
    return this.sink.flush();
  }
}
