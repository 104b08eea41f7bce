// The stripe-elt command as a test runs it: a child process, from the sources (no build needed).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `stripe-elt ARGS`; `input`, if given, is its whole stdin, through a pipe; `inputFile`, a file as its stdin (`< FILE`). */
export function startCli(args: readonly string[], options: { input?: string; inputFile?: string; logLevel?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const { input, inputFile } = options;
  const file = inputFile === undefined ? undefined : openSync(inputFile, 'r');
  const child = spawn(process.execPath, ['--import', 'tsx', 'connector/cli.ts', ...args], {
    stdio: [file ?? (input === undefined ? 'ignore' : 'pipe'), 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: options.logLevel ?? 'info', ...options.env },
  });
  // A child that fails early closes its stdin; the rest of the input is of no interest then.
  child.stdin?.on('error', () => {});
  if (input !== undefined) child.stdin?.end(input);
  if (file !== undefined) closeSync(file); // the child has its own copy
  return child;
}

/** Everything a started command prints, and its exit code. */
export async function finishCli(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
