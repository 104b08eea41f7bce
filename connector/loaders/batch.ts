// A batch of records on its way to the warehouse: newline-delimited JSON in a file, each line an
// Airbyte RECORD message with its arrival order (`seq`) in front. Records are written as they
// come, so memory stays flat whatever the batch's size; the warehouse reads the file in bulk
// (DuckDB's read_json, a BigQuery load job).
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NEWLINE = Buffer.from('\n');
let batchesDir: string | undefined;

function directory(): string {
  batchesDir ??= mkdtempSync(join(tmpdir(), 'stripe-elt-batches-'));
  return batchesDir;
}

export class BatchFile {
  readonly path: string;
  records = 0;
  /** Streams with records in the batch. */
  readonly streams = new Set<string>();
  /** The livemode values the records carry. */
  readonly modes = new Set<boolean>();
  private readonly out: WriteStream;
  /** One wait for the disk, shared by every caller that has to wait. */
  private draining: Promise<void> | undefined;
  private static next = 0;

  constructor() {
    this.path = join(directory(), `batch-${process.pid}-${BatchFile.next++}.ndjson`);
    this.out = createWriteStream(this.path);
  }

  private readonly perStream = new Map<string, number>();

  countOf(stream: string): number {
    return this.perStream.get(stream) ?? 0;
  }

  /** Where each record came from (a line of `write`'s input), to point at a bad one. */
  readonly origins: number[] = [];

  /**
   * Adds a RECORD line (`{"type":"RECORD","record":{…}}`, as `read` prints it), as text or as the
   * bytes it arrived in.
   */
  async addLine(line: string | Buffer, stream: string, livemode: boolean | undefined, origin?: number): Promise<void> {
    this.records++;
    this.streams.add(stream);
    this.perStream.set(stream, (this.perStream.get(stream) ?? 0) + 1);
    if (livemode !== undefined) this.modes.add(livemode);
    if (origin !== undefined) this.origins.push(origin);
    const ok = typeof line === 'string'
      ? this.out.write(`{"seq":${this.records},${line.slice(1)}\n`)
      : this.out.write(Buffer.concat([Buffer.from(`{"seq":${this.records},`), line.subarray(1), NEWLINE]));
    if (!ok) {
      this.draining ??= this.drained();
      await this.draining;
    }
  }

  /**
   * Resolves once the file takes writes again. A stream that is ending (the batch went to commit
   * while this writer waited) never emits 'drain', so its closing ends the wait as well.
   */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        this.draining = undefined;
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
    });
  }

  /** Closes the file for reading. */
  async seal(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }

  discard(): void {
    this.out.destroy();
    rmSync(this.path, { force: true });
  }
}
