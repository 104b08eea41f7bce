// What a load is doing, for the person waiting: on a terminal, a live table per stream (records,
// records per second, accounts done), with log lines written above it; otherwise a progress line
// every 10 seconds. All on stderr.
import type { Logger, Terminal } from '../logger.js';
import type { StreamState } from '../sync/state.js';
import { STREAMS, type StreamName } from '../streams/catalog.js';

const REDRAW_MS = 250;
const LOG_EVERY_MS = 10_000;
/** Rates are over this last stretch of time. */
const RATE_WINDOW_MS = 5_000;

/** Records per second over the last few seconds, from samples of a running count. */
class Rate {
  private readonly samples: [number, number][] = [];

  sample(now: number, count: number): number {
    this.samples.push([now, count]);
    while (this.samples.length > 2 && (this.samples[1] as [number, number])[0] <= now - RATE_WINDOW_MS) this.samples.shift();
    const [t0, n0] = this.samples[0] as [number, number];
    return now > t0 ? ((count - n0) * 1000) / (now - t0) : 0;
  }
}

interface StreamProgress {
  records: number;
  /** Accounts whose backfill of the stream is complete, as of its last STATE. */
  accountsDone: number;
  status: string;
  readonly rate: Rate;
}

export class Progress {
  private readonly streams = new Map<string, StreamProgress>();
  private readonly started = performance.now();
  private committedRecords = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastLog = performance.now();
  private readonly rate = new Rate();
  private accounts = 0;

  /**
   * `terminal`: where to draw the live table, the one `logger` writes its sentences to, so that they
   * come above the table; without one (stderr is not a terminal), log lines.
   */
  constructor(
    private readonly logger: Logger,
    private readonly terminal: Terminal | undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), REDRAW_MS);
    this.timer.unref();
  }

  /** The number of accounts the run reads, once known. */
  setAccounts(count: number): void {
    this.accounts = count;
  }

  private stream(name: string): StreamProgress {
    let progress = this.streams.get(name);
    if (!progress) {
      progress = { records: 0, accountsDone: 0, status: 'started', rate: new Rate() };
      this.streams.set(name, progress);
    }
    return progress;
  }

  record(stream: string): void {
    this.stream(stream).records++;
  }

  state(stream: string, state: StreamState): void {
    this.stream(stream).accountsDone = Object.values(state.accounts).filter((partition) => partition.backfill === undefined).length;
  }

  status(stream: string, status: string): void {
    this.stream(stream).status = status.toLowerCase();
  }

  committed(records: number): void {
    this.committedRecords += records;
  }

  log(level: string, message: string): void {
    if (level === 'WARN' || level === 'ERROR' || level === 'FATAL') this.logger.warn(message);
  }

  /** The accounts a stream is read for: the platform alone, or every account. */
  private accountsOf(stream: string): number {
    return STREAMS[stream as StreamName]?.scope === 'platform' ? 1 : this.accounts;
  }

  private total(): number {
    let total = 0;
    for (const progress of this.streams.values()) total += progress.records;
    return total;
  }

  private tick(): void {
    const now = performance.now();
    const rate = Math.round(this.rate.sample(now, this.total()));
    if (this.terminal) {
      const seconds = Math.round((now - this.started) / 1000);
      // Narrow enough for an 80-column terminal.
      const row = (name: string, records: string, perSecond: string, accounts: string, status: string) =>
        `  ${name.padEnd(22)} ${records.padStart(9)} ${perSecond.padStart(8)} ${accounts.padStart(14)}  ${status}`;
      const rows = [...this.streams].map(([name, p]) =>
        row(name, String(p.records), String(Math.round(p.rate.sample(now, p.records))), `${p.accountsDone}/${this.accountsOf(name) || '?'}`, p.status),
      );
      this.terminal.draw(
        [
          `stripe-elt load: ${this.total()} records read, ${this.committedRecords} committed, ${rate}/s, ${seconds} s`,
          row('stream', 'records', 'per s', 'accounts done', 'status'),
          ...rows,
        ].join('\n'),
      );
      return;
    }
    if (now - this.lastLog >= LOG_EVERY_MS) this.logLine(rate);
  }

  private logLine(rate: number): void {
    this.lastLog = performance.now();
    const done = [...this.streams.values()].filter((p) => p.status === 'complete' || p.status === 'incomplete').length;
    this.logger.info({ records: this.total(), committed: this.committedRecords, per_second: rate, streams_done: `${done}/${this.streams.size}`, accounts: this.accounts }, 'load progress');
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    // A log reader sees the final figures even of a load shorter than one logging interval.
    if (this.terminal) this.terminal.clearLive();
    else this.logLine(Math.round(this.rate.sample(performance.now(), this.total())));
  }
}
