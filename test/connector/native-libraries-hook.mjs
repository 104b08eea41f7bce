// Given to a process with --import: as it exits, it writes the shared libraries the process
// loaded (as /proc/self/maps lists them) to the file named by $NATIVE_LIBRARIES_REPORT.
import { readFileSync, writeFileSync } from 'node:fs';

process.on('exit', () => {
  const paths = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[5])
    .filter((path) => path !== undefined && /\.(node|so)(\.[\d.]+)?$/.test(path));
  writeFileSync(process.env.NATIVE_LIBRARIES_REPORT, [...new Set(paths)].join('\n'));
});
