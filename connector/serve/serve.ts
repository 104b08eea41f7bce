// `serve`: the warehouse's one long-running writer. It receives Stripe's signed events into a
// journal (receiver.ts, journal.ts) and commits them to the warehouse every second or so
// (apply-events.ts); runs the incremental sync on a schedule, whose events pass catches any
// delivery that failed; builds the models after commits, at most every `transformEverySeconds`;
// and, with DuckDB (which lets no other process open a file one process writes), publishes a
// read-only copy of the warehouse for analysts after each build. Everything that writes takes
// turns on one lock: one DuckDB connection, one BigQuery lease.
import { execFile } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import type { SourceConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { load } from '../commands/load.js';
import { transform, type TransformCommandOptions } from '../commands/transform.js';
import type { Warehouse } from '../loaders/warehouse.js';
import type { SelectedStream } from '../protocol/inputs.js';
import { StripeApi } from '../stripe/client.js';
import { resolvePlatform } from '../sync/accounts.js';
import type { EndpointSecret } from '../webhooks/secret-file.js';
import { applyEvents, type ApplyContext, type ApplyResult } from './apply-events.js';
import { Journal, type JournalEntry, type SealedSegment } from './journal.js';
import { WebhookReceiver } from './receiver.js';

/** Journal to warehouse at least this often. */
export const COMMIT_EVERY_MS = 1000;

export interface ServeOptions {
  readonly config: SourceConfig;
  readonly streams: readonly SelectedStream[];
  readonly warehouse: Warehouse;
  readonly secrets: readonly EndpointSecret[];
  readonly journalDir: string;
  readonly host: string;
  readonly port: number;
  /** Seconds between scheduled syncs (the first at start); 0: none. */
  readonly syncEverySeconds: number;
  /** Seconds at least between builds of the models, after a commit; null: no builds. */
  readonly transformEverySeconds: number | null;
  readonly transformOptions?: TransformCommandOptions;
  /** DuckDB: where the read-only copy goes. */
  readonly readCopy?: string;
  readonly logger: Logger;
  /** Test hook: how often the journal is committed. */
  readonly commitEveryMs?: number;
}

/** A default journal folder beside the warehouse: `stripe.duckdb` → `stripe.duckdb.journal`. */
export function defaultJournalDir(warehouse: string): string {
  return warehouse.startsWith('duckdb:') ? `${warehouse.slice('duckdb:'.length)}.journal` : `stripe-elt-${warehouse.replace(/[^\w.-]+/g, '-')}.journal`;
}

interface RunRecord {
  started_at: string;
  finished_at?: string;
  outcome?: 'succeeded' | 'failed' | 'interrupted';
  message?: string;
}

const copyFile = promisify(execFile);

function copyInAnotherProcess(source: string, target: string): Promise<unknown> {
  return copyFile('cp', ['--', source, target]);
}

/** The median, 99th percentile and largest of recent timings, ms. */
function percentiles(timings: readonly number[]): { p50: number; p99: number; max: number; of: number } | null {
  if (timings.length === 0) return null;
  const sorted = [...timings].sort((a, b) => a - b);
  const at = (q: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), max: at(1), of: sorted.length };
}

const iso = (ms: number) => new Date(ms).toISOString();

export class ServeProcess {
  private readonly journal: Journal;
  private readonly receiver: WebhookReceiver;
  private readonly api: StripeApi;
  private platform = '';
  private lock: Promise<unknown> = Promise.resolve();
  private readonly stopController = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private committing: Promise<void> | undefined;
  private transformDue = false;
  private lastTransformStart = Number.NEGATIVE_INFINITY;
  private readonly totals = { applied: 0, duplicates: 0, ignored: 0, records: 0, commits: 0 };
  private lastCommit: { at: string; events: number; records: number } | undefined;
  private lastCommitError: string | undefined;
  /** Received events the warehouse refused for good, set aside in the journal's failed/ folder. */
  private setAside = 0;
  private newestEvent: number | undefined;
  private oldestPendingAt: number | undefined;
  private readonly runs: { sync?: RunRecord; transform?: RunRecord; readCopy?: { path: string; published_at: string } } = {};
  private syncing: Promise<void> | undefined;
  private transforming: Promise<void> | undefined;
  url = '';

  constructor(private readonly options: ServeOptions) {
    this.journal = Journal.open(options.journalDir);
    this.api = new StripeApi(options.config, options.logger);
    this.receiver = new WebhookReceiver({ journal: this.journal, secrets: options.secrets, mode: options.config.mode, logger: options.logger, health: () => this.health() });
  }

  /** Runs `work` when nothing else writes to the warehouse. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** The warehouse, with every call that reads or writes its bookkeeping taking turns with serve's own writes. */
  private sharedWarehouse(): Warehouse {
    const serialised = new Set(['commit', 'mode', 'states', 'platform', 'receivedEvents']);
    return new Proxy(this.options.warehouse, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        return serialised.has(String(property)) ? (...args: unknown[]) => this.exclusive(async () => bound(...args)) : bound;
      },
    });
  }

  async start(): Promise<string> {
    const { logger, config } = this.options;
    // Listening first: a port in use is said before any work; what arrives meanwhile waits in the journal.
    this.url = await this.receiver.listen(this.options.host, this.options.port);
    try {
      this.platform = (await resolvePlatform(this.api, config)).id;
    } catch (error) {
      await this.receiver.close();
      throw error;
    }
    // What a stopped process accepted and did not commit goes in first.
    await this.commitJournal();
    await this.publishReadCopy();
    logger.info({ url: this.url, journal: this.options.journalDir }, `Receiving Stripe's events on ${this.url}/webhooks (journal ${this.options.journalDir}); health on ${this.url}/healthz.`);
    this.timers.push(setInterval(() => void this.commitOnce(), this.options.commitEveryMs ?? COMMIT_EVERY_MS));
    if (this.options.syncEverySeconds > 0) {
      void this.sync();
      this.timers.push(setInterval(() => void this.sync(), this.options.syncEverySeconds * 1000));
    }
    return this.url;
  }

  /** Commits what the journal holds; one commit at a time, never overlapping. */
  async commitJournal(): Promise<void> {
    // One in flight may have sealed before the latest deliveries: wait for it, then commit again.
    while (this.committing) await this.committing;
    await this.commitOnce();
  }

  /** Commits what the journal holds, unless a commit is in flight (the periodic commit). */
  private commitOnce(): Promise<void> {
    if (this.committing) return this.committing;
    this.committing = this.exclusive(async () => {
      // A segment a commit: a backlog (a stopped process's journal, commits that failed for a
      // while) goes in in pieces, each removed once it is in the warehouse.
      for (const segment of await this.journal.seal()) {
        if (segment.entries.length === 0) {
          this.journal.remove([segment]);
          continue;
        }
        this.oldestPendingAt ??= segment.entries.reduce((oldest, e) => Math.min(oldest, e.receivedAt), Number.POSITIVE_INFINITY);
        try {
          let result: ApplyResult;
          try {
            result = await applyEvents(this.applyContext(), segment.entries);
          } catch (error) {
            if (!(error instanceof UserError && error.failureType === 'config_error')) throw error;
            result = await this.applyOneByOne(segment, error);
          }
          this.journal.remove([segment]);
          this.totals.applied += result.applied;
          this.totals.duplicates += result.duplicates;
          this.totals.ignored += result.ignored;
          this.totals.records += result.records;
          this.totals.commits++;
          this.lastCommit = { at: iso(Date.now()), events: segment.entries.length, records: result.records };
          this.lastCommitError = undefined;
          this.oldestPendingAt = undefined;
          if (result.newestEvent !== undefined) this.newestEvent = Math.max(this.newestEvent ?? 0, result.newestEvent);
          this.options.logger.debug({ ...result }, 'committed events');
          if (result.applied > 0) this.transformDue = true;
        } catch (error) {
          // Kept in the journal, for the next try: nothing is lost, the lag grows (see /healthz).
          this.lastCommitError = error instanceof Error ? error.message : String(error);
          this.options.logger.error(
            { err: this.lastCommitError },
            `Could not commit ${segment.entries.length} received events (they stay in the journal, tried again in a second): ${this.lastCommitError}`,
          );
          return;
        }
      }
    }).finally(() => {
      this.committing = undefined;
      void this.maybeTransform();
    });
    return this.committing;
  }

  private applyContext(): ApplyContext {
    return {
      loader: this.options.warehouse,
      api: this.api,
      mode: this.options.config.mode,
      platform: this.platform,
      readsAccount: (account) => this.readsAccount(account),
      streams: new Set(this.options.streams.map((s) => s.name)),
      logger: this.options.logger,
    };
  }

  /**
   * A segment the warehouse refused for what it holds (not for a passing failure): its events one
   * by one, those refused set aside in the journal's failed/ folder, so that they block neither
   * the others nor the events after them.
   */
  private async applyOneByOne(segment: SealedSegment, refusal: UserError): Promise<ApplyResult> {
    const totals = { applied: 0, duplicates: 0, ignored: 0, records: 0, newestEvent: undefined as number | undefined };
    const refused: JournalEntry[] = [];
    for (const entry of segment.entries) {
      try {
        const one = await applyEvents(this.applyContext(), [entry]);
        totals.applied += one.applied;
        totals.duplicates += one.duplicates;
        totals.ignored += one.ignored;
        totals.records += one.records;
        if (one.newestEvent !== undefined) totals.newestEvent = Math.max(totals.newestEvent ?? 0, one.newestEvent);
      } catch (error) {
        if (!(error instanceof UserError && error.failureType === 'config_error')) throw error;
        refused.push(entry);
      }
    }
    const kept = this.journal.setAside(segment, refused);
    this.setAside += refused.length;
    this.options.logger.error({ err: refusal.message, file: kept, events: refused.length }, `The warehouse refused ${refused.length} received events (${refusal.message}); they are kept in ${kept}, and the others go on.`);
    return totals;
  }

  private readsAccount(account: string): boolean {
    const connected = this.options.config.connectedAccounts;
    if (account === this.platform) return true;
    if (connected === 'all') return true;
    if (connected === 'none') return false;
    return connected.includes(account);
  }

  /** The scheduled sync: an incremental `load` of every stream, its commits taking turns with the journal's. */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    const record: RunRecord = { started_at: iso(Date.now()) };
    this.runs.sync = record;
    this.options.logger.info('Sync started.');
    this.syncing = load({ config: this.options.config, streams: this.options.streams, loader: this.sharedWarehouse(), logger: this.options.logger, signal: this.stopController.signal })
      .then((result) => {
        record.outcome = result.read.interrupted ? 'interrupted' : 'succeeded';
        this.options.logger.info({ records: result.pipeline.records, seconds: Math.round(result.seconds) }, `Sync ${record.outcome}: ${result.pipeline.records} records in ${result.seconds.toFixed(1)} s.`);
        this.transformDue = true;
      })
      .catch((error: unknown) => {
        record.outcome = 'failed';
        record.message = error instanceof Error ? error.message : String(error);
        this.options.logger.error({ err: record.message }, `Sync failed: ${record.message}`);
      })
      .finally(async () => {
        record.finished_at = iso(Date.now());
        if (this.options.transformEverySeconds === null) await this.publishReadCopy();
        this.syncing = undefined;
        void this.maybeTransform();
      });
    return this.syncing;
  }

  /** Builds the models when a commit changed something and the last build is old enough. */
  private async maybeTransform(): Promise<void> {
    const every = this.options.transformEverySeconds;
    if (every === null || !this.transformDue || this.transforming || this.stopController.signal.aborted) return;
    if (performance.now() - this.lastTransformStart < every * 1000) {
      const wait = every * 1000 - (performance.now() - this.lastTransformStart);
      const timer = setTimeout(() => void this.maybeTransform(), wait);
      timer.unref();
      return;
    }
    await this.transformNow();
  }

  /** Builds the models now (and publishes the read-only copy). */
  transformNow(): Promise<void> {
    if (this.transforming) return this.transforming;
    this.transformDue = false;
    this.lastTransformStart = performance.now();
    const record: RunRecord = { started_at: iso(Date.now()) };
    this.runs.transform = record;
    this.transforming = this.exclusive(async () => {
      try {
        const summary = await transform(this.options.warehouse, this.options.transformOptions ?? {});
        record.outcome = summary.failures > 0 ? 'failed' : 'succeeded';
        if (summary.failures > 0) record.message = `${summary.failures} models or tests failed`;
        this.options.logger.info({ failures: summary.failures, seconds: Math.round(summary.seconds) }, `Models built in ${summary.seconds.toFixed(1)} s${summary.failures > 0 ? `, ${summary.failures} failures` : ''}.`);
      } catch (error) {
        record.outcome = 'failed';
        record.message = error instanceof Error ? error.message : String(error);
        this.options.logger.error({ err: record.message }, `Building the models failed: ${record.message}`);
      }
      record.finished_at = iso(Date.now());
      await this.publishUnlocked();
    }).finally(() => {
      this.transforming = undefined;
    });
    return this.transforming;
  }

  publishReadCopy(): Promise<void> {
    return this.exclusive(() => this.publishUnlocked());
  }

  /**
   * DuckDB: a copy of the warehouse file that BI tools and the DuckDB CLI may open while serve
   * writes. After a checkpoint the file holds everything committed; it is copied beside the
   * target and renamed over it, so a reader sees the old copy or the new one, never half of one.
   */
  private async publishUnlocked(): Promise<void> {
    const target = this.options.readCopy;
    const description = this.options.warehouse.description;
    if (!target || !description.startsWith('duckdb:') || !this.options.warehouse.exists()) return;
    const source = description.slice('duckdb:'.length);
    const partial = `${target}.${process.pid}.partial`;
    try {
      await this.options.warehouse.client.execute('CHECKPOINT');
      // By another process: DuckDB's lock on the file is a POSIX lock, which this process would
      // lose the moment it closed a descriptor of its own on the file.
      await copyInAnotherProcess(source, partial);
      renameSync(partial, target);
      this.runs.readCopy = { path: target, published_at: iso(Date.now()) };
    } catch (error) {
      rmSync(partial, { force: true });
      this.options.logger.error({ err: error instanceof Error ? error.message : String(error) }, `Could not publish the read-only copy ${target}.`);
    }
  }

  async health(): Promise<Record<string, unknown>> {
    const pending = this.journal.pending;
    const now = Date.now();
    return {
      status: this.lastCommitError || this.setAside > 0 ? 'degraded' : 'ok',
      warehouse: { description: this.options.warehouse.description, reachable: this.lastCommitError === undefined, error: this.lastCommitError ?? null },
      events: { received: this.receiver.counts.received, applied: this.totals.applied, duplicates: this.totals.duplicates, ignored: this.totals.ignored, rejected: this.receiver.counts.rejected, other_mode: this.receiver.counts.otherMode, pending, set_aside: this.setAside },
      last_commit: this.lastCommit ?? null,
      // Seconds the oldest event not yet in the warehouse has waited.
      lag_seconds: this.oldestPendingAt !== undefined ? Math.round((now - this.oldestPendingAt) / 1000) : 0,
      receipt_to_durable_ms: percentiles(this.receiver.durableMs),
      newest_event_at: this.newestEvent !== undefined ? iso(this.newestEvent * 1000) : null,
      last_sync: this.runs.sync ?? null,
      last_transform: this.runs.transform ?? null,
      read_copy: this.runs.readCopy ?? (this.options.readCopy ? { path: this.options.readCopy, published_at: null } : null),
    };
  }

  /** Stops taking requests, stops a running sync at its next page, commits what was accepted. */
  async stop(): Promise<void> {
    this.stopController.abort();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.receiver.close();
    await this.journal.drain();
    await this.syncing;
    await this.transforming;
    await this.commitJournal();
    if (this.journal.pending > 0) await this.commitJournal();
    this.journal.close();
  }
}
