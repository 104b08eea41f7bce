// DuckDB's memory limit: its default and how a size is read. Apart from the loader, so that the
// command line can name them without loading DuckDB's native library.

/** DuckDB's own default is 80% of the machine's memory, most of it a cache a load does not need. */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '256MB';

const SIZE_UNITS: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** The bytes in a size as DuckDB writes them (256MB, 2GiB); null if it is not one. */
export function sizeInBytes(size: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B)$/i.exec(size.trim());
  const unit = match ? SIZE_UNITS[(match[2] as string).toLowerCase()] : undefined;
  return match && unit ? Number(match[1]) * unit : null;
}
