// DuckDB's memory limit: its default and how a size is read. Apart from the loader, so that the
// command line can name them without loading DuckDB's native library.

/** DuckDB's own default is 80% of the machine's memory, most of it a cache a load does not need. */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '256MB';

/**
 * A load that reads Stripe in the same process (load, sync, serve) gets records at Stripe's pace,
 * a third of what DuckDB writes on one thread: a smaller limit and one thread cost it no time, and
 * leave the other cores to the reader (a million objects: 684 → 515–530 MB, and faster, as the
 * reader no longer waits for a core; BENCHMARKS.md). `write`, paced by its input, keeps the
 * default and every core.
 */
export const STRIPE_PACED_DUCKDB = { memoryLimit: '128MB', threads: 1 } as const;

/**
 * A build's default: half of the machine's memory. The marts join and window whole tables, which
 * a load's 256MB cannot hold (the demo's 100,000 objects ran out of it); a build runs alone in
 * the warehouse's one writing process, so it may take more, and DuckDB spills beyond it.
 */
export function defaultBuildMemoryLimit(totalBytes: number): string {
  return `${Math.max(256, Math.floor(totalBytes / 2 / 2 ** 20))}MiB`;
}

const SIZE_UNITS: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** The bytes in a size as DuckDB writes them (256MB, 2GiB); null if it is not one. */
export function sizeInBytes(size: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B)$/i.exec(size.trim());
  const unit = match ? SIZE_UNITS[(match[2] as string).toLowerCase()] : undefined;
  return match && unit ? Number(match[1]) * unit : null;
}
