// What the parts of a read share: the client, the output, the accounts, and the run's health.
import type { SourceConfig } from '../config.js';
import type { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ProtocolWriter } from '../protocol/writer.js';
import type { StreamName } from '../streams/catalog.js';
import type { StripeApi } from '../stripe/client.js';
import { classifyFailure } from './failures.js';
import { addInterval, covers, type Interval } from './intervals.js';
import type { StreamOutput } from './stream-output.js';

/** A slice more than Little's law asks for: pages take longer than their average now and then. */
const SLICES_HEADROOM = 1.5;
const MIN_SLICES = 2;
const DAY = 86_400;
/** Another stream's objects tell how busy an account was only from this many on. */
const MIN_EVIDENCE = 100;

/** What a read has seen of one stream of one account: objects per day, and the times it has read all of. */
interface StreamActivity {
  readonly perDay: Map<number, number>;
  read: Interval[];
}

/** Objects in [from, to] (a day's objects counted in proportion to its part in the range), if all of it was read. */
function objectsIn(activity: StreamActivity, from: number, to: number): number | undefined {
  if (to < from || !covers(activity.read, from, to)) return undefined;
  let objects = 0;
  for (let day = Math.floor(from / DAY); day <= Math.floor(to / DAY); day++) {
    const inside = Math.min(to + 1, (day + 1) * DAY) - Math.max(from, day * DAY);
    objects += ((activity.perDay.get(day) ?? 0) * inside) / DAY;
  }
  return objects;
}

/**
 * Per endpoint, the pages estimated left (the scheduler serves the busiest endpoint first) and the
 * slices reading it, and how long a slice takes per page: how many slices an endpoint needs to
 * run at its rate. Per account and stream, what the run has read, for the estimates.
 */
export class EndpointLoad {
  private readonly pages = new Map<string, number>();
  private readonly slices = new Map<string, number>();
  private readonly activity = new Map<string, Map<string, StreamActivity>>();
  /** From sending a page's request to being ready to send the next: its time out and its records' (moving average, ms). */
  private cycleMs = 100;

  add(endpoint: string, delta: number): void {
    this.pages.set(endpoint, (this.pages.get(endpoint) ?? 0) + delta);
  }

  of(endpoint: string): number {
    return this.pages.get(endpoint) ?? 0;
  }

  sliceStarted(endpoint: string): void {
    this.slices.set(endpoint, (this.slices.get(endpoint) ?? 0) + 1);
  }

  sliceEnded(endpoint: string): void {
    this.slices.set(endpoint, (this.slices.get(endpoint) ?? 0) - 1);
  }

  sawCycle(ms: number): void {
    this.cycleMs = this.cycleMs * 0.9 + ms * 0.1;
  }

  /** A page of `stream` of `account`: the objects' times, and the times it completes, [from, to]. */
  sawPage(account: string, stream: string, created: readonly number[], from: number, to: number): void {
    let streams = this.activity.get(account);
    if (!streams) {
      streams = new Map();
      this.activity.set(account, streams);
    }
    let activity = streams.get(stream);
    if (!activity) {
      activity = { perDay: new Map(), read: [] };
      streams.set(stream, activity);
    }
    for (const time of created) {
      const day = Math.floor(time / DAY);
      activity.perDay.set(day, (activity.perDay.get(day) ?? 0) + 1);
    }
    activity.read = addInterval(activity.read, from, to);
  }

  /**
   * Objects of `stream` in [from, to] as another stream of the account has them: one that has
   * read all of that range and of [readFrom, readTo], where `stream` has read `read` objects,
   * counts the range's objects, times the two streams' ratio where both have read. An account's
   * streams grow, pause and burst together, so this holds where a stream's own density, read
   * elsewhere, would guess. Undefined if no other stream has read enough there.
   */
  objectsLikeOtherStreams(account: string, stream: string, read: number, readFrom: number, readTo: number, from: number, to: number): number | undefined {
    let best: { seen: number; there: number } | undefined;
    for (const [other, activity] of this.activity.get(account) ?? []) {
      if (other === stream) continue;
      const seen = objectsIn(activity, readFrom, readTo);
      const there = objectsIn(activity, from, to);
      if (seen === undefined || there === undefined || seen < MIN_EVIDENCE) continue;
      if (!best || seen > best.seen) best = { seen, there };
    }
    return best ? (read * best.there) / best.seen : undefined;
  }

  /**
   * How many more slices `endpoint` needs to make `perSecond` requests a second: each slice has
   * one request out at a time, so it takes the rate times a slice's time per page (Little's law),
   * with headroom.
   */
  missingSlices(endpoint: string, perSecond: number): number {
    const needed = Math.max(MIN_SLICES, Math.ceil((perSecond * this.cycleMs * SLICES_HEADROOM) / 1000));
    return Math.max(0, needed - (this.slices.get(endpoint) ?? 0));
  }
}

/** A listed or fetched object counts as observed this long before the request went out (see observationTime). */
export const LISTED_MARGIN_SECONDS = 1;

export class ReadContext {
  /** Connected accounts that failed during the run, with why. */
  readonly failedAccounts = new Map<string, string>();
  fatal: UserError | undefined;
  /** Set when the run was asked to stop (SIGINT, SIGTERM): requests end, progress is kept. */
  interrupted = false;
  /**
   * When each account was created (a connected account: when it connected). Objects are rarely
   * older, so estimates of how much is left to read do not count the years before.
   */
  readonly createdAt = new Map<string, number>();
  /** The newest Stripe time seen in a response. */
  private latestServerTime: number;
  private readonly warned = new Set<string>();

  constructor(
    readonly api: StripeApi,
    readonly writer: ProtocolWriter,
    readonly logger: Logger,
    readonly config: SourceConfig,
    readonly platformId: string,
    /** Stripe's time when the run started: the end of new backfills, the start of new cursors. */
    readonly startedAt: number,
    readonly outputs: ReadonlyMap<StreamName, StreamOutput>,
    readonly load: EndpointLoad,
  ) {
    this.latestServerTime = startedAt;
  }

  serverNow(): number {
    return this.latestServerTime;
  }

  sawServerTime(time: number): void {
    if (time > this.latestServerTime) this.latestServerTime = time;
  }

  /**
   * The observation time of what a request about to be sent will return. Stripe takes its
   * snapshot after the request goes out, and the response's Date can be seconds later than that
   * snapshot (a page held in flight): stamping with it would let a stale page beat an event that
   * landed in between. So a listed object counts as observed one second before Stripe's clock
   * as last seen: an event in that second or later is newer, and wins.
   */
  observationTime(): number {
    return this.latestServerTime - LISTED_MARGIN_SECONDS;
  }

  /** True once the run must stop, or this account must. */
  stopped(account?: string): boolean {
    return this.fatal !== undefined || this.interrupted || (account !== undefined && this.failedAccounts.has(account));
  }

  /** A warning for the user, once per text, as a LOG message (the commands show it once). */
  async warn(message: string): Promise<void> {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    await this.writer.log('WARN', message);
  }

  /** Something the user should know that is not a problem, as an INFO LOG message. */
  async notice(message: string): Promise<void> {
    await this.writer.log('INFO', message);
  }

  /**
   * Marks a connected account lost for the run: every stream read from it is incomplete.
   * `why` is short (each stream's reason); `detail`, if any, is added to the account's.
   */
  async loseAccount(account: string, why: string, warning: string, detail?: string): Promise<void> {
    if (this.failedAccounts.has(account)) return;
    this.failedAccounts.set(account, detail ? `${why} (${detail})` : why);
    await this.warn(warning);
    for (const each of this.outputs.values()) if (each.definition.scope === 'every_account') each.failOn(account, `connected account ${account} ${why}`);
  }

  /**
   * Decides what a failed request means: a missing permission makes the streams it served
   * incomplete on that account (the others go on), a lost connected account stops that account,
   * anything else stops the run.
   */
  async fail(error: unknown, account: string, outputs: readonly StreamOutput[] = []): Promise<void> {
    const onConnected = account !== this.platformId;
    const failure = classifyFailure(error, onConnected);
    if (failure.kind === 'fatal') {
      this.fatal ??= failure.error;
      return;
    }
    if (failure.kind === 'account' && onConnected) {
      await this.loseAccount(account, 'failed', `Connected account ${account} failed and was skipped; its data is incomplete: ${failure.message}`, failure.message);
      return;
    }
    const names = outputs.length > 0 ? outputs.map((o) => o.name).join(', ') : 'a stream';
    const grant = failure.kind === 'permission' && failure.permission ? ` Grant the key the ${failure.permission} permission.` : '';
    const where = onConnected ? ` on connected account ${account}` : '';
    for (const output of outputs) output.failOn(account, `the key may not read ${output.name}${where}`);
    await this.warn(`Skipped ${names}${where}: the key may not read ${outputs.length > 1 ? 'them' : 'it'} (${failure.message}).${grant}`);
  }
}
