// Measuring a benchmark's processes from the outside, through /proc (Linux).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU seconds a process has used so far, from /proc (utime + stime). */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Peak resident memory of a process, from /proc (VmHWM), polled until it exits. */
export function watchPeakMemory(child: ChildProcess): () => number {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb);
    } catch {
      // The process has exited.
    }
  }, 100);
  child.on('exit', () => clearInterval(timer));
  return () => Math.round(peak / 1024);
}
