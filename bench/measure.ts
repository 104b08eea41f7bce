// Measuring a benchmark's processes: CPU time from /proc (Linux), peak memory as they exit.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** CPU seconds a process has used so far, from /proc (utime + stime). */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Peak resident memory of a Node process to be spawned: `args` go before its script and `env`
 * into its environment; once it has exited, `read()` gives its peak in MB (its maxRSS, DuckDB's
 * native memory included, written by report-peak-memory.mjs as it exits).
 */
export function peakMemory(): { args: string[]; env: Record<string, string>; read: () => number } {
  const file = join(mkdtempSync(join(tmpdir(), 'stripe-elt-peak-')), 'peak');
  return {
    args: ['--import', './bench/report-peak-memory.mjs'],
    env: { PEAK_MEMORY_FILE: file },
    read: () => Number(readFileSync(file, 'utf8')),
  };
}
