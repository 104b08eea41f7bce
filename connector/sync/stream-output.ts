// One selected stream during a read: its records, its state (one partition per account), its
// status, and when to checkpoint. A STATE line is printed only after the records it covers.
import type { Mode } from '../config.js';
import type { ProtocolWriter } from '../protocol/writer.js';
import type { SyncMode } from '../protocol/messages.js';
import type { StreamDefinition } from '../streams/catalog.js';
import { emptyStreamState, type PartitionState, type StreamState } from './state.js';

/** A STATE at least this often, in records of the stream. */
export const CHECKPOINT_RECORDS = 2000;

export type StripeObject = Record<string, unknown> & { id: string; created?: number; object?: string };

/**
 * An object as a record of its stream: Stripe's fields unchanged, plus `account_id`, `observed_at`
 * (when the object was known to be in this state), `deleted` for deleted objects, and `livemode`
 * where Stripe's object has none. Every way a record reaches the warehouse makes it here.
 */
export function asRecord(definition: StreamDefinition, mode: Mode, object: StripeObject, accountId: string, observedAt: number, deleted = false): Record<string, unknown> {
  const data = object as Record<string, unknown>;
  data.account_id = accountId;
  data.observed_at = observedAt;
  if (deleted) data.deleted = true;
  if (definition.addsLivemode && data.livemode === undefined) data.livemode = mode === 'live';
  return data;
}

export class StreamOutput {
  records = 0;
  private sinceCheckpoint = 0;
  private running = false;
  /** Why the stream is incomplete, if it is: each reason once. */
  readonly problems = new Set<string>();
  /** Accounts on which the stream failed this run: their partitions stay as they were, to be read again. */
  readonly failedOn = new Set<string>();

  constructor(
    readonly definition: StreamDefinition,
    readonly syncMode: SyncMode,
    readonly state: StreamState,
    private readonly writer: ProtocolWriter,
    private readonly mode: Mode,
  ) {}

  /**
   * The stream's output for this run. An incremental read goes on from the state it is given; a
   * full refresh starts from nothing every time, and so does an incremental read given the state
   * of a full refresh (it holds no cursor).
   */
  static create(definition: StreamDefinition, syncMode: SyncMode, state: StreamState | undefined, writer: ProtocolWriter, mode: Mode, platform: string): StreamOutput {
    const resumable = syncMode === 'incremental' && state !== undefined && state.sync_mode === undefined;
    const initial = resumable ? structuredClone(state) : emptyStreamState(platform);
    initial.platform = platform;
    if (syncMode === 'full_refresh') initial.sync_mode = 'full_refresh';
    return new StreamOutput(definition, syncMode, initial, writer, mode);
  }

  get name(): string {
    return this.definition.name;
  }

  get incremental(): boolean {
    return this.syncMode === 'incremental';
  }

  partition(account: string): PartitionState | undefined {
    return this.state.accounts[account];
  }

  setPartition(account: string, partition: PartitionState): void {
    this.state.accounts[account] = partition;
  }

  /** Prints one object as a record (see asRecord). */
  async emit(object: StripeObject, accountId: string, observedAt: number, deleted = false): Promise<void> {
    const data = asRecord(this.definition, this.mode, object, accountId, observedAt, deleted);
    if (!this.running) {
      this.running = true;
      await this.writer.streamStatus(this.name, 'RUNNING');
    }
    await this.writer.send({ type: 'RECORD', record: { stream: this.name, data, emitted_at: Date.now() } });
    this.records++;
    this.sinceCheckpoint++;
  }

  /** Prints the state if enough records went out since the last one. */
  async maybeCheckpoint(): Promise<void> {
    if (this.sinceCheckpoint >= CHECKPOINT_RECORDS) await this.checkpoint();
  }

  /**
   * Prints the state. A full refresh prints its progress too, so that a loader commits it in
   * batches like any other stream (its state is never taken as a cursor, see `create`).
   */
  async checkpoint(): Promise<void> {
    const count = this.sinceCheckpoint;
    this.sinceCheckpoint = 0;
    await this.writer.state(this.name, this.state as unknown as Record<string, unknown>, count);
  }

  /** The stream is incomplete for a reason that concerns every account. */
  problem(reason: string): void {
    this.problems.add(reason);
  }

  /** The stream failed on one account: its other accounts go on. */
  failOn(account: string, reason: string): void {
    this.failedOn.add(account);
    this.problems.add(reason);
  }

  get complete(): boolean {
    return this.problems.size === 0;
  }
}
