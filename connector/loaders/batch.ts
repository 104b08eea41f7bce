// A batch of records on its way to the warehouse: newline-delimited JSON in a file, each line an
// Airbyte RECORD message with its arrival order (`seq`) in front. Records are written as they
// come, so memory stays flat whatever the batch's size; the warehouse reads the file in bulk
// (DuckDB's read_json, a BigQuery load job).
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamName } from '../streams/catalog.js';

const NEWLINE = Buffer.from('\n');
let batchesDir: string | undefined;

/** This process's folder of batch files, removed as the process exits. */
function directory(): string {
  if (batchesDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'stripe-elt-batches-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    batchesDir = dir;
  }
  return batchesDir;
}

export class BatchFile {
  private static next = 0;
  readonly path = join(directory(), `batch-${process.pid}-${BatchFile.next++}.ndjson`);
  records = 0;
  /** Streams with records in the batch. */
  readonly streams = new Set<StreamName>();
  /** Opened with the first record: a batch that stays empty leaves no file. */
  private out: WriteStream | undefined;
  /** One wait for the disk, shared by every caller that has to wait. */
  private draining: Promise<void> | undefined;

  /**
   * Adds a RECORD line (`{"type":"RECORD","record":{…}}`, as `read` prints it), as text or as the
   * bytes it arrived in.
   */
  async addLine(line: string | Buffer, stream: StreamName): Promise<void> {
    this.records++;
    this.streams.add(stream);
    this.out ??= createWriteStream(this.path);
    const ok = typeof line === 'string'
      ? this.out.write(`{"seq":${this.records},${line.slice(1)}\n`)
      : this.out.write(Buffer.concat([Buffer.from(`{"seq":${this.records},`), line.subarray(1), NEWLINE]));
    if (!ok) {
      this.draining ??= this.drained(this.out);
      await this.draining;
    }
  }

  /**
   * Resolves once the file takes writes again. A stream that is ending (the batch went to commit
   * while this writer waited) never emits 'drain', so its closing ends the wait as well.
   */
  private drained(out: WriteStream): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        this.draining = undefined;
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  }

  /** Closes the file for reading. */
  async seal(): Promise<void> {
    const out = this.out;
    if (!out) return;
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }

  discard(): void {
    if (!this.out) return;
    this.out.destroy();
    rmSync(this.path, { force: true });
  }
}
