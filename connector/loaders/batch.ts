// A batch of records on its way to the warehouse: newline-delimited JSON in a file, each line an
// Airbyte RECORD message with its arrival order (`seq`) in front. Records are written as they
// come, so memory stays flat whatever the batch's size; the warehouse reads the file in bulk
// (DuckDB's read_json, a BigQuery load job).
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamName } from '../streams/catalog.js';

const NEWLINE = 0x0a;
/**
 * Lines are gathered into chunks of this size before they go to the file: a write per record
 * (over a million in a large load) cost more system time than the rest of the batch's work.
 */
const CHUNK_BYTES = 1 << 20;
/** Batch folders are named `stripe-elt-batches-PID-…`, for the process that owns them. */
const FOLDER_PREFIX = 'stripe-elt-batches-';
let batchesDir: string | undefined;

/** Whether a process of this id is running (another user's cannot be signalled, but it runs). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the batch folders of processes that are no longer running: a process killed with
 * SIGKILL cannot remove its own, and its batches hold customers' names and emails in clear.
 * Never the folder of a running process, nor one named otherwise.
 */
function removeFoldersOfEndedProcesses(): void {
  const owner = new RegExp(`^${FOLDER_PREFIX}(\\d+)-`);
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(owner.exec(entry)?.[1] ?? Number.NaN);
    if (!Number.isInteger(pid) || pid === process.pid || running(pid)) continue;
    try {
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    } catch {
      // another user's: theirs to remove
    }
  }
}

/** This process's folder of batch files, removed as the process exits. */
function directory(): string {
  if (batchesDir === undefined) {
    removeFoldersOfEndedProcesses();
    const dir = mkdtempSync(join(tmpdir(), `${FOLDER_PREFIX}${process.pid}-`));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    batchesDir = dir;
  }
  return batchesDir;
}

export class BatchFile {
  private static next = 0;
  readonly path = join(directory(), `batch-${process.pid}-${BatchFile.next++}.ndjson`);
  records = 0;
  /** Bytes of the batch's lines, as written to its file. */
  bytes = 0;
  /** Streams with records in the batch. */
  readonly streams = new Set<StreamName>();
  /** The line of the input each line came from, by `seq - 1`, for lines that came from one (`write`). */
  private readonly inputLines: number[] = [];
  /** Opened with the first record: a batch that stays empty leaves no file. */
  private out: WriteStream | undefined;
  /** Lines not yet handed to the file, in `chunk[0, used)`. */
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  /** One wait for the disk, shared by every caller that has to wait. */
  private draining: Promise<void> | undefined;

  /**
   * Adds a RECORD line (`{"type":"RECORD","record":{…}}`, as `read` prints it), as text or as the
   * bytes it arrived in, and the line of the input it was, if it came from one.
   */
  async addLine(line: string | Buffer, stream: StreamName, inputLine?: number): Promise<void> {
    this.records++;
    this.streams.add(stream);
    if (inputLine !== undefined) this.inputLines[this.records - 1] = inputLine;
    // Everything up to the wait happens at once, so lines keep their order however many callers wait.
    const prefix = `{"seq":${this.records},`;
    const size = prefix.length + (typeof line === 'string' ? Buffer.byteLength(line) : line.length);
    this.bytes += size;
    if (this.used + size > CHUNK_BYTES) this.flush();
    if (size > CHUNK_BYTES) {
      // A line larger than a chunk goes to the file on its own.
      const rest = typeof line === 'string' ? Buffer.from(line.slice(1)) : line.subarray(1);
      this.send(Buffer.concat([Buffer.from(prefix), rest, Buffer.of(NEWLINE)]));
    } else {
      this.used += this.chunk.write(prefix, this.used, 'latin1');
      this.used += typeof line === 'string' ? this.chunk.write(line.slice(1), this.used) : line.copy(this.chunk, this.used, 1);
      this.chunk[this.used++] = NEWLINE;
    }
    if (this.draining) await this.draining;
  }

  /** Hands the gathered lines to the file; the next lines go into a new chunk. */
  private flush(): void {
    if (this.used === 0) return;
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    this.send(full);
  }

  /** Writes to the file; a full write buffer makes the callers wait (`draining`) until the disk catches up. */
  private send(bytes: Buffer): void {
    this.out ??= createWriteStream(this.path, { highWaterMark: CHUNK_BYTES });
    if (!this.out.write(bytes)) this.draining ??= this.drained(this.out);
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
    this.flush();
    const out = this.out;
    if (!out) return;
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }

  /**
   * The first line of the batch that is not JSON, by its line of the input, if it came from one.
   * `write` puts RECORD lines in the batch unparsed, and a warehouse that fails to read one names
   * the place in the batch file, not in the input: this is read only after a commit failed.
   */
  async firstMalformedLine(): Promise<{ inputLine: number; reason: string } | undefined> {
    if (this.inputLines.length === 0 || !this.out) return undefined;
    let seq = 0;
    let rest: Buffer = Buffer.alloc(0);
    for await (const chunk of createReadStream(this.path) as AsyncIterable<Buffer>) {
      const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE, start)) {
        seq++;
        // The line as it arrived: the batch file holds it with `{"seq":N,` in place of its `{`.
        const line = `{${data.subarray(start + `{"seq":${seq},`.length, end).toString('utf8')}`;
        start = end + 1;
        try {
          JSON.parse(line);
        } catch (error) {
          const inputLine = this.inputLines[seq - 1];
          return inputLine === undefined ? undefined : { inputLine, reason: (error as Error).message };
        }
      }
      rest = data.subarray(start);
    }
    return undefined;
  }

  discard(): void {
    if (!this.out) return;
    this.out.destroy();
    rmSync(this.path, { force: true });
  }
}
