// What a load is doing, for the person waiting: on a terminal, a live table per stream (records,
// records per second, accounts done); otherwise a progress line every few seconds. All on stderr.
import { createLogUpdate } from 'log-update';
import type { Logger } from '../logger.js';

const REDRAW_MS = 250;
const LOG_EVERY_MS = 10_000;

interface StreamProgress {
  records: number;
  readonly accounts: Set<string>;
  status: string;
}

export class Progress {
  private readonly streams = new Map<string, StreamProgress>();
  private readonly started = performance.now();
  private committedRecords = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly draw: ReturnType<typeof createLogUpdate> | undefined;
  private lastLog = performance.now();
  private readonly recent: number[] = [];

  constructor(
    private readonly logger: Logger,
    /** The number of accounts the run reads, once known. */
    private accounts = 0,
    interactive: boolean = process.stderr.isTTY === true,
  ) {
    this.draw = interactive ? createLogUpdate(process.stderr) : undefined;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), REDRAW_MS);
    this.timer.unref();
  }

  setAccounts(count: number): void {
    this.accounts = count;
  }

  private stream(name: string): StreamProgress {
    let progress = this.streams.get(name);
    if (!progress) {
      progress = { records: 0, accounts: new Set(), status: 'started' };
      this.streams.set(name, progress);
    }
    return progress;
  }

  record(stream: string, account: string | undefined): void {
    const progress = this.stream(stream);
    progress.records++;
    if (account) progress.accounts.add(account);
  }

  status(stream: string, status: string): void {
    this.stream(stream).status = status.toLowerCase();
  }

  committed(records: number): void {
    this.committedRecords += records;
  }

  log(level: string, message: string): void {
    if (level === 'WARN' || level === 'ERROR' || level === 'FATAL') {
      this.draw?.clear();
      this.logger.warn(message);
    }
  }

  private total(): number {
    let total = 0;
    for (const progress of this.streams.values()) total += progress.records;
    return total;
  }

  /** Records per second over the last few seconds. */
  private rate(): number {
    const now = performance.now();
    this.recent.push(now, this.total());
    while (this.recent.length > 2 && (this.recent[0] as number) < now - 5000) this.recent.splice(0, 2);
    const [t0 = now, n0 = 0] = this.recent;
    return now > t0 ? ((this.total() - n0) * 1000) / (now - t0) : 0;
  }

  private tick(): void {
    const seconds = Math.round((performance.now() - this.started) / 1000);
    const rate = Math.round(this.rate());
    if (this.draw) {
      const rows = [...this.streams].map(([name, p]) => `  ${name.padEnd(22)} ${String(p.records).padStart(9)} records  ${String(p.accounts.size).padStart(4)}/${this.accounts} accounts  ${p.status}`);
      this.draw([`stripe-elt load: ${this.total()} records read, ${this.committedRecords} committed, ${rate}/s, ${seconds}s`, ...rows].join('\n'));
      return;
    }
    if (performance.now() - this.lastLog >= LOG_EVERY_MS) this.logLine(rate);
  }

  private logLine(rate: number): void {
    this.lastLog = performance.now();
    const done = [...this.streams.values()].filter((p) => p.status === 'complete' || p.status === 'incomplete').length;
    this.logger.info({ records: this.total(), committed: this.committedRecords, per_second: rate, streams_done: `${done}/${this.streams.size}` }, 'load progress');
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    // A log reader sees the final figures even of a load shorter than one logging interval.
    if (this.draw) this.draw.clear();
    else this.logLine(Math.round(this.rate()));
  }
}
