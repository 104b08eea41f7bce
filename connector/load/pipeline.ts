// From messages to the warehouse. Records go into a batch file as they come; at a STATE, once
// the batch is large or old enough, the batch and every state up to that point commit together
// in one transaction, so that the warehouse always matches its last committed state. One commit
// runs in the background while the next batch fills; a committed STATE is handed to `onCommitted`
// (`write` echoes it on stdout).
import type { AirbyteMessage, StreamStateMessage } from '../protocol/messages.js';
import type { MessageSink } from '../protocol/writer.js';
import { UserError } from '../errors.js';
import type { Loader } from '../loaders/loader.js';
import { BatchFile } from '../loaders/batch.js';
import { STREAM_NAMES, isStreamName, type StreamName } from '../streams/catalog.js';
import { parseStreamState, type StreamState } from '../sync/state.js';
import type { Logger } from '../logger.js';
import type { Progress } from './progress.js';

/** The refusal of a line of `write`'s input, by its number. */
export function notAMessage(lineNumber: number, reason: string): UserError {
  return new UserError(`Line ${lineNumber} of the input is not an Airbyte message (${reason}); nothing after the last committed STATE was written.`);
}

/** A commit is due at the next STATE after this many records, this many bytes of them, or this much time. */
export const DEFAULT_BATCH_RECORDS = 25_000;
/**
 * What DuckDB holds while it commits a batch grows with the batch's bytes, not its records: a
 * batch of 27,000 records ran a 160MB limit out of memory, where batches of 16 MB fit in 128MB at
 * a million objects (BENCHMARKS.md, memory of `load`).
 */
export const DEFAULT_BATCH_BYTES = 16 * 2 ** 20;
const BATCH_MS = 5_000;

export interface PipelineStats {
  records: number;
  commits: number;
  swept: number;
  /** The error a source reported (a TRACE error), if any. */
  sourceError: string | undefined;
  /** Streams the source reported INCOMPLETE. */
  readonly incompleteStreams: Set<string>;
}

export interface PipelineOptions {
  readonly onCommitted?: (states: readonly StreamStateMessage[]) => Promise<void>;
  readonly progress?: Progress;
  readonly batchRecords?: number;
  readonly batchBytes?: number;
  /** Told of each commit, at debug level. */
  readonly logger?: Logger;
}

export class LoadPipeline implements MessageSink {
  readonly stats: PipelineStats = { records: 0, commits: 0, swept: 0, sourceError: undefined, incompleteStreams: new Set() };
  private batch = new BatchFile();
  /** The newest state of each stream since the last commit, and every STATE message in order. */
  private states = new Map<StreamName, StreamState>();
  private stateMessages: StreamStateMessage[] = [];
  private committing: Promise<void> | undefined;
  private failure: unknown;
  private lastCommit = performance.now();
  private readonly batchRecords: number;
  private readonly batchBytes: number;

  constructor(
    private readonly loader: Loader,
    private readonly options: PipelineOptions = {},
  ) {
    this.batchRecords = options.batchRecords ?? DEFAULT_BATCH_RECORDS;
    this.batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  }

  async write(message: AirbyteMessage): Promise<void> {
    this.throwIfFailed();
    switch (message.type) {
      case 'RECORD':
        await this.addRecord(JSON.stringify(message), message.record.stream);
        return;
      case 'STATE':
        await this.addState(message);
        return;
      case 'TRACE':
        if (message.trace.type === 'ERROR') this.stats.sourceError = message.trace.error.message;
        if (message.trace.type === 'STREAM_STATUS') {
          const { stream_descriptor: stream, status } = message.trace.stream_status;
          if (status === 'INCOMPLETE') this.stats.incompleteStreams.add(stream.name);
          this.options.progress?.status(stream.name, status);
        }
        return;
      case 'LOG':
        this.options.progress?.log(message.log.level, message.log.message);
        return;
      default:
        return;
    }
  }

  /**
   * A RECORD line exactly as `read` prints it: it goes to the batch without being parsed (a line
   * that is not JSON fails its commit, and is then named by `inputLine`, its line of the input).
   */
  async addRecord(line: string | Buffer, stream: string, inputLine?: number): Promise<void> {
    this.throwIfFailed();
    if (!isStreamName(stream)) throw new UserError(`A record names an unknown stream "${stream}"; the streams are ${STREAM_NAMES.join(', ')}.`);
    await this.batch.addLine(line, stream, inputLine);
    this.stats.records++;
    this.options.progress?.record(stream);
  }

  async addState(message: StreamStateMessage): Promise<void> {
    this.throwIfFailed();
    const stream = message.state.stream.stream_descriptor.name;
    if (!isStreamName(stream)) throw new UserError(`A STATE names an unknown stream "${stream}".`);
    const parsed = parseStreamState(message.state.stream.stream_state, stream);
    if (!parsed.ok) throw new UserError(`The STATE of ${stream} is not one stripe-elt read writes: ${parsed.problem}.`);
    this.states.set(stream, parsed.state);
    if (this.options.onCommitted) this.stateMessages.push(message);
    this.options.progress?.state(stream, parsed.state);
    if (this.due()) await this.commit(false);
  }

  /** Whether the batch is large or old enough to commit at a STATE. */
  private due(): boolean {
    return this.batch.records >= this.batchRecords || this.batch.bytes >= this.batchBytes || performance.now() - this.lastCommit >= BATCH_MS;
  }

  /** Commits everything received so far (the end of a read). */
  async flush(): Promise<void> {
    await this.commit(true);
    while (this.committing) await this.committing;
    this.throwIfFailed();
  }

  /** Drops what was received since the last commit: the input went wrong. */
  async abandon(): Promise<void> {
    while (this.committing) await this.committing;
    this.batch.discard();
    this.batch = new BatchFile();
    this.states = new Map();
    this.stateMessages = [];
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async commit(always: boolean): Promise<void> {
    // At most one commit in flight: the next one waits for it (backpressure for the reader). Streams
    // send concurrently, so several callers may wait here; the first to wake takes the batch.
    while (this.committing) await this.committing;
    this.throwIfFailed();
    if (!always && !this.due()) return; // another waiter committed the batch meanwhile
    if (this.batch.records === 0 && this.states.size === 0) return;
    const batch = this.batch;
    const states = this.states;
    const messages = this.stateMessages;
    this.batch = new BatchFile();
    this.states = new Map();
    this.stateMessages = [];
    this.lastCommit = performance.now();
    const committing = this.commitBatch(batch, states, messages);
    this.committing = committing;
    void committing.then(() => {
      if (this.committing === committing) this.committing = undefined;
    });
  }

  /** Never rejects: a failure is kept, and thrown at the next message. */
  private async commitBatch(batch: BatchFile, states: Map<StreamName, StreamState>, messages: StreamStateMessage[]): Promise<void> {
    try {
      await batch.seal();
      const result = await this.loader.commit(batch, states);
      this.stats.commits++;
      this.stats.swept += result.swept;
      this.options.progress?.committed(batch.records);
      this.options.logger?.debug({ commit: this.stats.commits, records: batch.records, states: [...states.keys()] }, 'committed');
      if (this.options.onCommitted) await this.options.onCommitted(messages);
    } catch (error) {
      // The warehouse read a line of the input that is not JSON: that line is what went wrong.
      const malformed = await batch.firstMalformedLine().catch(() => undefined);
      this.failure ??= malformed ? notAMessage(malformed.inputLine, malformed.reason) : error;
    } finally {
      batch.discard();
    }
  }
}
