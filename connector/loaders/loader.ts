// The loader port: what loading needs from a warehouse, whatever the engine. A second engine is a
// second implementation of this interface (one folder per engine, on that engine's warehouse
// client), and one contract test suite runs over every implementation. Reading the warehouse
// otherwise (row counts, queries, the tests' checks) goes through its client, not through this.
import type { Mode } from '../config.js';
import { UserError } from '../errors.js';
import { isStreamName, type StreamName } from '../streams/catalog.js';
import { parseStreamState, stateBelongsTo, type StreamState } from '../sync/state.js';
import type { BatchFile } from './batch.js';

/** The schemas (DuckDB) or datasets (BigQuery) the warehouse uses. */
export interface WarehouseNames {
  /** `stripe_raw`: one table per stream. */
  readonly raw: string;
  /** `stripe_marts`: the models' output. */
  readonly marts: string;
  /** `stripe_elt`: bookkeeping (state, settings, model versions). */
  readonly meta: string;
}

export function warehouseNames(prefix = ''): WarehouseNames {
  return { raw: `${prefix}stripe_raw`, marts: `${prefix}stripe_marts`, meta: `${prefix}stripe_elt` };
}

export interface CommitResult {
  /** Rows marked deleted because a completed backfill no longer listed them. */
  readonly swept: number;
}

/** An event `serve` received, recorded with the commit that applies it (see `Loader.commit`). */
export interface ReceivedEvent {
  readonly id: string;
  readonly account_id: string;
  readonly type: string;
  /** Unix seconds. */
  readonly created: number;
}

/** One object of a stream: its account and id. */
export interface ObjectKey {
  readonly account_id: string;
  readonly id: string;
}

/** How long received events are remembered: Stripe retries a delivery for three days at most. */
export const RECEIVED_EVENTS_KEPT_DAYS = 30;

export interface Loader {
  /** `duckdb:stripe.duckdb`, `bigquery:my-project`: for messages. */
  readonly description: string;
  /**
   * Checks, before any work and creating nothing, that the warehouse can be written and is a
   * stripe-elt warehouse or a new one (tables of ours with other columns are refused); DuckDB
   * also fails at once if another process holds the file (BigQuery, at the first commit: see its
   * lease). Its migrations ledger, if it has one, must be one this release continues. The first
   * commit (or reset) applies the migrations, which create the schemas (datasets) and tables.
   */
  open(): Promise<void>;
  /** Whether the warehouse holds stripe-elt's bookkeeping: false for a new one, until its first commit. */
  exists(): boolean;
  /** The mode (test or live) of the data the warehouse holds, if it holds any. */
  mode(): Promise<Mode | null>;
  /** The platform account (`acct_…`) whose data the warehouse holds, once a commit recorded it. */
  platform(): Promise<string | null>;
  /** The state of every stream, as the last commit left it. */
  states(): Promise<Map<StreamName, StreamState>>;
  /**
   * Atomically: merges the batch's records into the raw tables (the newest state of each object
   * wins), stores the batch's states, and marks deleted what completed backfills no longer list.
   * Refuses records of the other mode, and states of another platform. `received`: the webhook
   * events whose records the batch holds, remembered (RECEIVED_EVENTS_KEPT_DAYS) in the same
   * transaction so that a redelivery is known for one.
   */
  commit(batch: BatchFile, states: ReadonlyMap<StreamName, StreamState>, received?: readonly ReceivedEvent[]): Promise<CommitResult>;
  /** Which of these event ids an earlier commit received. */
  receivedEvents(ids: readonly string[]): Promise<Set<string>>;
  /** When the rows of these objects of a stream were observed (unix seconds), by `account_id/id`; objects without a row are left out. */
  observedAt(stream: StreamName, objects: readonly ObjectKey[]): Promise<Map<string, number>>;
  /** Drops the raw tables and state of these streams (every stream: also forgets the mode). */
  reset(streams: readonly StreamName[] | 'all'): Promise<void>;
  close(): Promise<void>;
}

/** The states as a warehouse stores them (JSON text per stream), checked to be ours. */
export function storedStates(rows: readonly Record<string, unknown>[], warehouse: string): Map<StreamName, StreamState> {
  const states = new Map<StreamName, StreamState>();
  for (const row of rows) {
    const stream = String(row.stream);
    const parsed = isStreamName(stream) ? parseStreamState(JSON.parse(String(row.state)), stream) : { ok: false as const, problem: 'no such stream' };
    if (!isStreamName(stream) || !parsed.ok) throw new UserError(`The state of ${stream} in ${warehouse} is not one this version of stripe-elt reads (${parsed.ok ? '' : parsed.problem}); reset the stream.`);
    states.set(stream, parsed.state);
  }
  return states;
}

/** What a warehouse found in a batch: records not of ours, and the livemode values present. */
export interface BatchCheck {
  readonly foreignRecords: number;
  /** The `seq` of the first of them. */
  readonly firstForeign: unknown;
  readonly modes: readonly boolean[];
}

/**
 * Every record must be one of ours (an account and a time of observation) and of the
 * warehouse's mode (`held`, if it holds data yet); returns the records' mode.
 */
export function batchMode(check: BatchCheck, held: Mode | null, warehouse: string): Mode | null {
  if (check.foreignRecords > 0) {
    throw new UserError(
      `${check.foreignRecords} records lack account_id, id or observed_at (the first is record ${String(check.firstForeign)} of the batch): ` +
        'the warehouse loads the records of stripe-elt read.',
    );
  }
  if (check.modes.length > 1) throw new UserError('The records mix test-mode and live-mode data; one warehouse holds one mode.');
  if (check.modes.length === 0) return null;
  const incoming: Mode = check.modes[0] ? 'live' : 'test';
  if (held && held !== incoming) throw new UserError(modeMismatch(warehouse, held, incoming));
  return incoming;
}

/** The sentence for data of the other mode. */
export function modeMismatch(warehouse: string, held: Mode, incoming: Mode): string {
  return (
    `${warehouse} holds ${held}-mode data, and these records are ${incoming}-mode data: test and live data are kept in ` +
    `separate warehouses. Load into another one (for example --warehouse duckdb:stripe-${incoming}.duckdb), or empty this ` +
    'one first with `stripe-elt reset --yes`.'
  );
}

/** The sentence for data of another platform; `held` is null when only the warehouse's states tell it is another. */
export function platformMismatch(warehouse: string, held: string | null, incoming: string): string {
  const holds = held ? `the data of the Stripe platform ${held}` : `another Stripe platform's data (its states name none of ${incoming}'s accounts)`;
  return (
    `${warehouse} holds ${holds}, and this data is of ${incoming}: one warehouse holds one platform's data. ` +
    `Load ${incoming} into another warehouse (for example --warehouse duckdb:stripe-${incoming}.duckdb), or empty this one first with \`stripe-elt reset --yes\`.`
  );
}

/**
 * The platform of a batch's states, which must be the warehouse's (`held`); returns the platform
 * to record when the warehouse has none yet. A warehouse written before platforms were recorded
 * is checked through the states it holds.
 */
export function batchPlatform(
  held: string | null,
  stored: ReadonlyMap<StreamName, StreamState>,
  incoming: ReadonlyMap<StreamName, StreamState>,
  warehouse: string,
): string | null {
  const platforms = new Set([...incoming.values()].flatMap((state) => (state.platform ? [state.platform] : [])));
  if (platforms.size > 1) throw new UserError(`The states of one batch name several platforms (${[...platforms].join(', ')}): a warehouse loads one platform's data.`);
  const [platform] = platforms;
  if (platform === undefined) return null;
  if (held !== null) {
    if (held !== platform) throw new UserError(platformMismatch(warehouse, held, platform));
    return null;
  }
  for (const state of stored.values()) {
    if (!stateBelongsTo(state, platform)) throw new UserError(platformMismatch(warehouse, state.platform ?? null, platform));
  }
  return platform;
}
