// Which process holds a DuckDB file, told from its command line (on Linux, /proc/PID/cmdline):
// another stripe-elt command, or another program (the DuckDB CLI, a BI tool, a notebook).
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { scrubSecrets } from '../../errors.js';

export type FileHolder =
  /** Another stripe-elt process; `command` is its subcommand (load, write, reset…), if it has one. */
  | { readonly kind: 'stripe-elt'; readonly command: string | undefined }
  /** Another program, by its command line (shortened). */
  | { readonly kind: 'program'; readonly commandLine: string }
  /** A process whose command line cannot be read (another system, another user, gone). */
  | { readonly kind: 'unknown' };

/** Longer command lines are cut: a message names the program, not every argument. */
const SHOWN_CHARACTERS = 120;

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** This process's script (connector/cli.ts, dist/connector/cli.js, the stripe-elt bin), resolved. */
function ownScript(): string | undefined {
  const script = process.argv[1];
  return script === undefined ? undefined : realPath(script);
}

export function fileHolder(pid: number): FileHolder {
  let args: string[];
  let cwd: string;
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return { kind: 'unknown' };
  }
  if (args.length === 0) return { kind: 'unknown' };
  // Its script is ours, or the bin's name: the argument after it is the subcommand.
  const own = ownScript();
  const script = args.findIndex((arg, i) => i > 0 && (basename(arg) === 'stripe-elt' || (own !== undefined && realPath(resolve(cwd, arg)) === own)));
  if (script > 0) return { kind: 'stripe-elt', command: args[script + 1]?.startsWith('-') ? undefined : args[script + 1] };
  const commandLine = scrubSecrets(args.join(' '));
  return { kind: 'program', commandLine: commandLine.length > SHOWN_CHARACTERS ? `${commandLine.slice(0, SHOWN_CHARACTERS - 1)}…` : commandLine };
}
