// What the parts of a read share: the client, the output, the accounts, and the run's health.
import type { SourceConfig } from '../config.js';
import type { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ProtocolWriter } from '../protocol/writer.js';
import type { StreamName } from '../streams/catalog.js';
import type { StripeApi } from '../stripe/client.js';
import { classifyFailure } from './failures.js';
import type { StreamOutput } from './stream-output.js';

/** Estimated pages left per endpoint: the scheduler serves the busiest endpoint first. */
export class EndpointLoad {
  private readonly pages = new Map<string, number>();
  private total = 0;
  /** How long a page takes, request to response (moving average, ms). */
  private pageMs = 100;
  /** Slices whose size is still a guess: until none is left, the estimates are too low to act on. */
  unprobed = 0;

  add(endpoint: string, delta: number): void {
    this.pages.set(endpoint, (this.pages.get(endpoint) ?? 0) + delta);
    this.total += delta;
  }

  of(endpoint: string): number {
    return this.pages.get(endpoint) ?? 0;
  }

  sawPage(ms: number): void {
    this.pageMs = this.pageMs * 0.9 + ms * 0.1;
  }

  /** Seconds one slice needs to read `pages` pages one after another. */
  sequentialSeconds(pages: number): number {
    return (pages * this.pageMs) / 1000;
  }

  /** Seconds the run still needs at the budget: the whole run's pages, or the busiest endpoint's. */
  remainingSeconds(perSecond: number, perEndpointPerSecond: number): number {
    let busiest = 0;
    for (const pages of this.pages.values()) busiest = Math.max(busiest, pages);
    return Math.max(this.total / perSecond, busiest / perEndpointPerSecond);
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
