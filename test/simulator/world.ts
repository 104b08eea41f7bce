// The simulated Stripe: a clock, and for each mode a platform account with its connected
// accounts. All changes to objects go through ModeWorld's create/update/remove, which also record
// the events Stripe would send, so the event log always explains the objects.
import { Business } from './business.js';
import { Rng } from './random.js';
import type { ShapeName } from './shapes.js';
import { clockMoved, forgetRendering } from './render.js';
import type { AccountRow, AnyRow, ObjectRow, RowOf, StreamName } from './rows.js';
import { AccountState, StreamIndex, type AccountProfile, type EventRecord, type Mode } from './store.js';

export const DAY = 86_400;
/** Stripe keeps events for 30 days. */
export const EVENT_RETENTION_SECONDS = 30 * DAY;

export interface WorldOptions {
  readonly seed: string;
  /** The simulated time at start, unix seconds. */
  readonly now: number;
  /** How many days of history the data covers. */
  readonly days: number;
  /** Roughly how many objects (events not counted) each populated mode holds at start. */
  readonly objects: number;
  /** Connected accounts at start. */
  readonly accounts: number;
  /** Which modes hold data; the others exist but are empty. */
  readonly modes: readonly Mode[];
  /**
   * Payout delays (days a charge's funds are held) for the connected accounts, given round-robin
   * in the order the accounts join (their `created`); the platform keeps its 2 days. Without it,
   * each account has its market's delay (2 to 7 days).
   */
  readonly payoutDelayDays?: readonly number[];
  /** Another shape of data than the default business (see shapes.ts). */
  readonly shape?: ShapeName;
}

/** Stripe lets an account hold its funds from 2 (most countries' minimum) to 31 days. */
const PAYOUT_DELAY_DAYS = { min: 2, max: 31 } as const;

/** Throws unless every delay is one Stripe offers. */
export function checkPayoutDelays(delays: readonly number[]): void {
  const { min, max } = PAYOUT_DELAY_DAYS;
  const bad = delays.find((d) => !Number.isInteger(d) || d < min || d > max);
  if (delays.length === 0 || bad !== undefined) {
    throw new Error(`payout delays must be whole days from ${min} to ${max}, e.g. 2,14,31 (got ${delays.length === 0 ? 'none' : String(bad)})`);
  }
}

export interface AdvanceSummary {
  readonly now: number;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly events: number;
  readonly new_accounts: readonly string[];
}

export interface TruthLine {
  readonly stream: StreamName;
  readonly account_id: string;
  readonly id: string;
  readonly deleted: boolean;
  readonly row: AnyRow | EventRecord;
  readonly account: AccountState;
}

interface ChangeCounts {
  created: number;
  updated: number;
  deleted: number;
  events: number;
}

export class World {
  now: number;
  readonly start: number;
  readonly platformId: string;
  readonly modes: Record<Mode, ModeWorld>;
  /** Hears of every event made after the history (the history is built before anyone listens). */
  eventListener: ((account: AccountState, event: EventRecord) => void) | undefined;
  private seq = 0;

  constructor(readonly options: WorldOptions) {
    if (options.payoutDelayDays) checkPayoutDelays(options.payoutDelayDays);
    this.start = options.now - options.days * DAY;
    this.now = this.start;
    const rng = new Rng(`platform:${options.seed}`);
    this.platformId = rng.id('acct', 16);
    this.modes = {
      test: new ModeWorld(this, 'test', options.modes.includes('test')),
      live: new ModeWorld(this, 'live', options.modes.includes('live')),
    };
    // History: run the business from the start of the span to "now", keeping only the events
    // that are still within Stripe's retention window at the end.
    const eventFloor = options.now - EVENT_RETENTION_SECONDS;
    for (const modeWorld of Object.values(this.modes)) modeWorld.runUntil(options.now, eventFloor);
    this.now = options.now;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Moves the clock forward, letting every business act in time order. */
  advance(seconds: number, forcedNewAccounts = 0): AdvanceSummary {
    if (!(seconds >= 0)) throw new Error('advance needs a non-negative duration');
    const target = this.now + Math.round(seconds);
    const totals: ChangeCounts = { created: 0, updated: 0, deleted: 0, events: 0 };
    const newAccounts: string[] = [];
    for (const modeWorld of Object.values(this.modes)) {
      if (!modeWorld.populated) continue;
      modeWorld.counts = { created: 0, updated: 0, deleted: 0, events: 0 };
      const before = new Set(modeWorld.connected.keys());
      modeWorld.business.forceNewAccounts(forcedNewAccounts, this.now, target);
      modeWorld.runUntil(target, -Infinity);
      for (const id of modeWorld.connected.keys()) if (!before.has(id)) newAccounts.push(id);
      totals.created += modeWorld.counts.created;
      totals.updated += modeWorld.counts.updated;
      totals.deleted += modeWorld.counts.deleted;
      totals.events += modeWorld.counts.events;
    }
    this.now = target;
    clockMoved();
    for (const modeWorld of Object.values(this.modes)) modeWorld.pruneEvents(target - EVENT_RETENTION_SECONDS);
    return { now: target, ...totals, new_accounts: newAccounts };
  }

  /** Finds the account an id belongs to in the other mode (for Stripe's "similar object" hint). */
  existsInOtherMode(mode: Mode, id: string): boolean {
    const other = this.modes[mode === 'test' ? 'live' : 'test'];
    for (const account of other.allAccounts()) if (account.byId.has(id) || account.eventsById.has(id)) return true;
    return false;
  }
}

/** One mode (test or live) of the simulated Stripe. */
export class ModeWorld {
  readonly platform: AccountState;
  /** Connected accounts by id, in the order they joined. */
  readonly connected = new Map<string, AccountState>();
  /** The platform's list of connected accounts (`GET /v1/accounts`). */
  readonly accountIndex = new StreamIndex<AccountRow>();
  readonly business: Business;
  readonly rng: Rng;
  counts: ChangeCounts = { created: 0, updated: 0, deleted: 0, events: 0 };
  private eventFloor = -Infinity;

  constructor(
    readonly world: World,
    readonly mode: Mode,
    readonly populated: boolean,
  ) {
    this.rng = new Rng(`${world.options.seed}:${mode}`);
    const profile: AccountProfile = {
      businessName: 'Rocket Rides Platform',
      country: 'US',
      currency: 'usd',
      apiVersions: [
        { from: 0, version: '2024-06-20' },
        { from: world.options.now - 200 * DAY, version: '2025-03-31.basil' },
      ],
      payoutDelayDays: 2,
      payoutInterval: 'daily',
      applicationFeeRate: 0,
      weight: 1,
      bankAccount: this.rng.id('ba'),
      createdAt: world.start,
    };
    this.platform = new AccountState(world.platformId, mode, true, profile, null);
    this.business = new Business(this, this.rng.fork('business'));
    // Events older than Stripe keeps at "now" are never stored, from the very first object on.
    this.eventFloor = world.options.now - EVENT_RETENTION_SECONDS;
    if (populated) this.business.begin(world.start, world.options);
  }

  get now(): number {
    return this.world.now;
  }

  runUntil(time: number, eventFloor: number): void {
    this.eventFloor = eventFloor;
    this.business.runUntil(time);
  }

  *allAccounts(): Iterable<AccountState> {
    yield this.platform;
    yield* this.connected.values();
  }

  /** A connected account the platform may act for, or undefined. */
  reachableAccount(id: string): AccountState | undefined {
    const account = this.connected.get(id);
    return account && account.connected ? account : undefined;
  }

  connectAccount(account: AccountState): void {
    if (!account.accountRow) throw new Error('a connected account needs its account row');
    this.connected.set(account.id, account);
    this.accountIndex.add(account.accountRow);
    this.counts.created++;
  }

  pruneEvents(cutoff: number): void {
    for (const account of this.allAccounts()) account.pruneEvents(cutoff);
  }

  // --- changes, each with its event -------------------------------------------------------

  create<S extends ObjectRow['stream']>(account: AccountState, row: RowOf<S>, eventType: string | null, byRequest = true): RowOf<S> {
    account.add(row);
    this.counts.created++;
    if (eventType) this.emit(account, eventType, row, null, byRequest);
    return row;
  }

  update<R extends AnyRow>(
    account: AccountState,
    row: R,
    changes: Partial<Omit<R, 'id' | 'stream' | 'created' | 'seq'>>,
    eventType: string | null,
    byRequest = false,
  ): void {
    const previous: Record<string, unknown> = {};
    const target = row as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(changes)) {
      previous[key] = target[key];
      target[key] = value;
    }
    forgetRendering(row);
    this.counts.updated++;
    if (eventType) this.emit(account, eventType, row, previous, byRequest);
  }

  /** Marks an object deleted; Stripe's `*.deleted` event carries its last state. */
  remove(account: AccountState, row: ObjectRow, eventType: string, byRequest = true): void {
    row.deleted = true;
    forgetRendering(row);
    this.counts.deleted++;
    this.emit(account, eventType, row, null, byRequest);
  }

  /** Records an event about `row` in `account`'s log. */
  emit(
    account: AccountState,
    type: string,
    row: AnyRow,
    previous: Record<string, unknown> | null,
    byRequest: boolean,
  ): void {
    // Ids are always drawn so that the random sequence does not depend on the retention floor.
    const id = this.rng.id('evt');
    const requestId = this.rng.id('req', 14);
    if (this.now < this.eventFloor) return;
    const event: EventRecord = {
      id,
      type,
      created: this.now,
      seq: this.world.nextSeq(),
      apiVersion: account.apiVersionAt(this.now),
      stream: row.stream,
      snapshot: { ...row, rendered: undefined },
      previous,
      requestId: byRequest ? requestId : null,
    };
    account.addEvent(event);
    this.counts.events++;
    this.world.eventListener?.(account, event);
  }

  // --- the truth ----------------------------------------------------------------------------

  /** The current state of every object the platform can reach, in a stable order. */
  *truth(): Iterable<TruthLine> {
    const platformId = this.platform.id;
    for (const row of this.accountIndex.rows) {
      const account = this.connected.get(row.id) as AccountState;
      yield { stream: 'accounts', account_id: platformId, id: row.id, deleted: !account.connected, row, account };
    }
    for (const account of this.allAccounts()) {
      if (!account.connected) continue;
      for (const index of Object.values(account.streams)) {
        for (const row of index.rows as ObjectRow[]) {
          yield { stream: row.stream, account_id: account.id, id: row.id, deleted: row.deleted, row, account };
        }
      }
      const retainedSince = this.now - EVENT_RETENTION_SECONDS;
      for (const event of account.events) {
        if (event.created < retainedSince) continue;
        yield { stream: 'events', account_id: account.id, id: event.id, deleted: false, row: event, account };
      }
    }
  }
}
