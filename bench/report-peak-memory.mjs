// Preloaded into a measured process (`node --import ./bench/report-peak-memory.mjs …`): as the
// process exits, writes its peak resident memory in MB (the kernel's count, native memory such as
// DuckDB's included) to the file named by PEAK_MEMORY_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.PEAK_MEMORY_FILE) writeFileSync(process.env.PEAK_MEMORY_FILE, String(Math.round(process.resourceUsage().maxRSS / 1024)));
});
