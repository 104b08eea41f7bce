// The receiver's journal: events accepted from Stripe, on local disk, before they reach the
// warehouse. A delivery is answered 2xx only once its event is in the journal and synced to disk,
// so a crash loses nothing Stripe was told we had; the journal is committed to the warehouse in
// small batches, then removed. Appends are synced in groups (one fsync for every delivery that
// arrived meanwhile), which is what lets one disk take a thousand deliveries a second.
//
// The journal is a folder of segments, `segment-N.ndjson`, one event a line. Appends go to the
// newest segment; `seal()` starts a new one and hands back the older ones, which are committed and
// then removed. Segments left by a process that stopped are sealed ones: committed first. The
// events hold customers' data: the folder is its owner's only (0700, files 0600).
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';

const SEGMENT = /^segment-(\d+)\.ndjson$/;

/** An event the receiver accepted: its body as Stripe signed it, and when it came. */
export interface JournalEntry {
  /** Unix milliseconds. */
  readonly receivedAt: number;
  /** The endpoint whose secret verified it (`we_…`). */
  readonly endpoint: string;
  /** The event, as JSON text. */
  readonly body: string;
}

export interface SealedSegment {
  readonly path: string;
  readonly entries: readonly JournalEntry[];
}

export class Journal {
  private fd: number | undefined;
  private number: number;
  /** Lines waiting for the next group write, with the appends waiting on it. */
  private waiting: { line: string; done: () => void; failed: (error: unknown) => void }[] = [];
  private writing = false;
  private appendedSinceSeal = 0;

  private constructor(
    readonly folder: string,
    lastNumber: number,
  ) {
    this.number = lastNumber + 1;
  }

  /** Opens (or creates) the journal folder; refuses one that others may read. */
  static open(folder: string): Journal {
    if (existsSync(folder)) {
      const stat = statSync(folder);
      if (!stat.isDirectory()) throw new UserError(`The journal ${folder} is not a folder: give another with --journal.`);
      if ((stat.mode & 0o077) !== 0) throw new UserError(`The journal ${folder} holds customers' data but others may read it; run chmod 700 ${folder}.`);
    } else {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
    }
    const numbers = readdirSync(folder).flatMap((name) => {
      const match = SEGMENT.exec(name);
      return match ? [Number(match[1])] : [];
    });
    return new Journal(folder, Math.max(0, ...numbers));
  }

  private segmentPath(number: number): string {
    return join(this.folder, `segment-${number}.ndjson`);
  }

  /** Events appended since the last seal. */
  get pending(): number {
    return this.appendedSinceSeal + this.waiting.length;
  }

  /** Resolves once the entry is on disk. */
  append(entry: JournalEntry): Promise<void> {
    const line = `${JSON.stringify({ received_at: entry.receivedAt, endpoint: entry.endpoint, body: entry.body })}\n`;
    return new Promise((done, failed) => {
      this.waiting.push({ line, done, failed });
      if (!this.writing) void this.writeGroups();
    });
  }

  /** Writes what is waiting, one write and one sync per group, until nothing waits. */
  private async writeGroups(): Promise<void> {
    this.writing = true;
    // Lets the deliveries that arrive in the same turn of the event loop join the group.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      try {
        this.fd ??= openSync(this.segmentPath(this.number), 'a', 0o600);
        writeSync(this.fd, group.map((w) => w.line).join(''));
        fdatasyncSync(this.fd);
        this.appendedSinceSeal += group.length;
        for (const w of group) w.done();
      } catch (error) {
        for (const w of group) w.failed(error);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.writing = false;
  }

  /** Waits until every append made so far is on disk (or failed). */
  async drain(): Promise<void> {
    while (this.writing || this.waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  /**
   * Starts a new segment and returns every older one with its entries, oldest first, to be
   * committed and then `remove`d. A line cut short by a crash was never acknowledged: skipped.
   */
  async seal(): Promise<SealedSegment[]> {
    await this.drain();
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
      this.number++;
    }
    this.appendedSinceSeal = 0;
    const sealed = readdirSync(this.folder)
      .flatMap((name) => {
        const match = SEGMENT.exec(name);
        return match && Number(match[1]) < this.number ? [{ name, number: Number(match[1]) }] : [];
      })
      .sort((a, b) => a.number - b.number);
    return sealed.map(({ name }) => {
      const path = join(this.folder, name);
      const entries = readFileSync(path, 'utf8')
        .split('\n')
        .flatMap((line): JournalEntry[] => {
          if (!line) return [];
          try {
            const parsed = JSON.parse(line) as { received_at: number; endpoint: string; body: string };
            return [{ receivedAt: parsed.received_at, endpoint: parsed.endpoint, body: parsed.body }];
          } catch {
            return [];
          }
        });
      return { path, entries };
    });
  }

  /**
   * Keeps entries the warehouse refuses for good (they contradict it: another mode's objects) in
   * `failed/`, out of the way of those after them, for a person to look at; returns the file.
   */
  setAside(segment: SealedSegment, entries: readonly JournalEntry[]): string {
    const folder = join(this.folder, 'failed');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const target = join(folder, basename(segment.path));
    const fd = openSync(target, 'a', 0o600);
    try {
      writeSync(fd, entries.map((entry) => `${JSON.stringify({ received_at: entry.receivedAt, endpoint: entry.endpoint, body: entry.body })}\n`).join(''));
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return target;
  }

  /** Removes committed segments. */
  remove(segments: readonly SealedSegment[]): void {
    for (const segment of segments) rmSync(segment.path, { force: true });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
