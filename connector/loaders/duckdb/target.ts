// The files of a DuckDB warehouse on disk: PATH, DuckDB's journal PATH.wal beside it, and the
// folder PATH.tmp where DuckDB spills what does not fit in its memory limit. Before DuckDB opens
// PATH, checks that all of them can be created or written (else a load reads Stripe and fails at
// its first commit); once this process holds the file, removes the spill files a killed one left.
import { accessSync, constants, readdirSync, rmdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';

/** Why a file system call was refused, in words. */
function cause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'EPERM') return 'the operation is not permitted';
  return code ?? (error as Error).message;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`Cannot reach the DuckDB warehouse ${path}: ${cause(error)}.`);
  }
}

/** The problem with writing `path`, if there is one. */
function unwritable(path: string, mode = constants.W_OK): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (error) {
    return cause(error);
  }
}

const ELSEWHERE = 'or give another path with --warehouse duckdb:PATH';

/** Checks, creating nothing, that DuckDB can create or write the warehouse `path`; returns whether the file exists. */
export function checkTarget(path: string): { exists: boolean } {
  const file = statOf(path);
  if (file?.isDirectory()) throw new UserError(`${path} is a folder, not a DuckDB database file: give a file's path, such as --warehouse duckdb:${join(path, 'stripe.duckdb')}.`);
  if (file && file.size === 0) throw new UserError(`${path} is an empty file, not a DuckDB database: remove it (the next load creates the database there), ${ELSEWHERE}.`);
  const folder = dirname(resolve(path));
  const folderStat = statOf(folder);
  if (!folderStat?.isDirectory()) {
    throw new UserError(`The folder ${folder} ${folderStat ? 'is a file' : 'does not exist'}, so the DuckDB warehouse ${path} cannot be created there: create the folder, ${ELSEWHERE}.`);
  }
  const folderProblem = unwritable(folder, constants.W_OK | constants.X_OK);
  if (folderProblem) {
    const what = file ? `DuckDB writes its journal ${basename(path)}.wal beside the warehouse ${path}` : `the warehouse ${path} would be created there, with DuckDB's journal beside it`;
    throw new UserError(`Cannot write in the folder ${folder} (${folderProblem}): ${what}. Make the folder writable, ${ELSEWHERE}.`);
  }
  if (file) {
    const fileProblem = unwritable(path, constants.R_OK | constants.W_OK);
    if (fileProblem) throw new UserError(`The DuckDB warehouse ${path} cannot be written (${fileProblem}), and a load writes to it. Make it writable, ${ELSEWHERE}.`);
  }
  for (const [beside, role] of [
    [`${path}.wal`, "DuckDB's journal"],
    [`${path}.tmp`, "DuckDB's folder for what does not fit in memory"],
  ] as const) {
    const problem = statOf(beside) ? unwritable(beside, constants.R_OK | constants.W_OK) : undefined;
    if (problem) throw new UserError(`${beside}, ${role} of the warehouse ${path}, cannot be written (${problem}). Make it writable, or remove it.`);
  }
  return { exists: file !== undefined };
}

/**
 * Removes the spill files (duckdb_temp_*) that a DuckDB process killed while spilling left in
 * PATH.tmp, and the folder if nothing else is in it. Called while this process holds the file's
 * lock: no other process is using them.
 */
export function removeLeftoverSpill(path: string): void {
  const folder = `${path}.tmp`;
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return;
  }
  for (const entry of entries) if (entry.startsWith('duckdb_temp_')) rmSync(join(folder, entry), { force: true });
  try {
    rmdirSync(folder);
  } catch {
    // something else is in it: not ours to remove
  }
}
