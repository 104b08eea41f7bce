// Where the simulated objects live: per account, per stream, in creation order, with an id index.
import type { AccountRow, AnyRow, BaseRow, ObjectRow, ObjectStreamName, RowOf, StreamName } from './rows.js';

export type Mode = 'test' | 'live';

/** Rows of one stream of one account, oldest first (lists walk it backwards: newest first). */
export class StreamIndex<R extends BaseRow> {
  readonly rows: R[] = [];

  add(row: R): void {
    const last = this.rows[this.rows.length - 1];
    if (!last || compareRows(last, row) < 0) {
      this.rows.push(row);
      return;
    }
    this.rows.splice(this.lowerBound(row.created, row.seq), 0, row);
  }

  /** Index of the first row at or after (created, seq). */
  lowerBound(created: number, seq: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const row = this.rows[mid] as R;
      if (row.created < created || (row.created === created && row.seq < seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of this row in the index, or -1. */
  indexOf(row: R): number {
    const i = this.lowerBound(row.created, row.seq);
    return this.rows[i] === row ? i : -1;
  }

  /** Index of the first row created at or after `created`. */
  firstCreatedAtOrAfter(created: number): number {
    return this.lowerBound(created, -Infinity);
  }

  get size(): number {
    return this.rows.length;
  }
}

function compareRows(a: BaseRow, b: BaseRow): number {
  return a.created - b.created || a.seq - b.seq;
}

/** One API version an account used by default from `from` (unix seconds) on. */
export interface VersionPeriod {
  readonly from: number;
  readonly version: string;
}

export interface AccountProfile {
  readonly businessName: string;
  readonly country: string;
  readonly currency: string;
  /** Default API version over time: events are rendered with the version current at their time. */
  readonly apiVersions: readonly VersionPeriod[];
  /** Days between a charge and its funds becoming available. */
  readonly payoutDelayDays: number;
  readonly payoutInterval: 'daily' | 'weekly';
  /** Share of each payment the platform takes as an application fee (connected accounts). */
  readonly applicationFeeRate: number;
  /** Relative size of the business. */
  readonly weight: number;
  readonly bankAccount: string;
  /** When the account was created (a connected account's row says when it connected instead). */
  readonly createdAt: number;
}

export interface EventRecord {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly seq: number;
  readonly apiVersion: string;
  readonly stream: StreamName;
  /** The object as it was right after the change. */
  readonly snapshot: AnyRow;
  /** For `*.updated` events: the changed fields' values before the change. */
  readonly previous: Readonly<Partial<Record<string, unknown>>> | null;
  /** Null when Stripe made the change itself (renewals, retries), as Stripe reports it. */
  readonly requestId: string | null;
  /** The rendered event, once asked for: an event never changes. */
  json?: string;
}

type StreamIndexes = { [S in ObjectStreamName]: StreamIndex<RowOf<S>> };

function emptyIndexes(): StreamIndexes {
  return {
    customers: new StreamIndex(),
    products: new StreamIndex(),
    prices: new StreamIndex(),
    coupons: new StreamIndex(),
    subscriptions: new StreamIndex(),
    invoices: new StreamIndex(),
    payment_intents: new StreamIndex(),
    charges: new StreamIndex(),
    refunds: new StreamIndex(),
    disputes: new StreamIndex(),
    credit_notes: new StreamIndex(),
    payouts: new StreamIndex(),
    balance_transactions: new StreamIndex(),
    transfers: new StreamIndex(),
    application_fees: new StreamIndex(),
  };
}

/** One Stripe account (the platform or a connected account) in one mode. */
export class AccountState {
  readonly streams: StreamIndexes = emptyIndexes();
  readonly byId = new Map<string, ObjectRow>();
  /** Events, oldest first, within the retention window. */
  events: EventRecord[] = [];
  readonly eventsById = new Map<string, EventRecord>();
  /** False once the account has disconnected from the platform (or a fault says so). */
  connected = true;

  constructor(
    readonly id: string,
    readonly mode: Mode,
    readonly isPlatform: boolean,
    readonly profile: AccountProfile,
    /** The platform's view of this connected account (null for the platform itself). */
    readonly accountRow: AccountRow | null,
  ) {}

  get livemode(): boolean {
    return this.mode === 'live';
  }

  apiVersionAt(time: number): string {
    let version = (this.profile.apiVersions[0] as VersionPeriod).version;
    for (const period of this.profile.apiVersions) if (period.from <= time) version = period.version;
    return version;
  }

  add<R extends ObjectRow>(row: R): void {
    (this.streams[row.stream] as unknown as StreamIndex<R>).add(row);
    this.byId.set(row.id, row);
  }

  get<S extends ObjectStreamName>(stream: S, id: string | null): RowOf<S> | undefined {
    if (id === null) return undefined;
    const row = this.byId.get(id);
    return row && row.stream === stream ? (row as RowOf<S>) : undefined;
  }

  addEvent(event: EventRecord): void {
    this.events.push(event);
    this.eventsById.set(event.id, event);
  }

  /** Forgets events created before `cutoff` (Stripe keeps 30 days). */
  pruneEvents(cutoff: number): void {
    let drop = 0;
    while (drop < this.events.length && (this.events[drop] as EventRecord).created < cutoff) {
      this.eventsById.delete((this.events[drop] as EventRecord).id);
      drop++;
    }
    if (drop > 0) this.events = this.events.slice(drop);
  }

  objectCount(): number {
    let count = 0;
    for (const index of Object.values(this.streams)) count += index.size;
    return count;
  }
}
