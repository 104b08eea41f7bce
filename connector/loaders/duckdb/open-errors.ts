// DuckDB's refusals to open a warehouse file, as sentences that say what is wrong and what to do:
// the file is held by another process (which one), is not a DuckDB database, or is damaged.
import { UserError } from '../../errors.js';
import { fileHolder } from './file-holder.js';

/** DuckDB names the process that holds the file's lock, and whether it holds it to read only. */
const HOLDER = /Conflicting lock is held in (.*?) \(PID (\d+)\)/;
const ONE_WRITER = 'DuckDB lets one process at a time open a file it writes, so a load cannot write to it while another program has it open, even to read';
const NO_READER = 'DuckDB lets no other process open a file while one writes to it, even to read';

/** Why the file is opened: to write (a load, a reset), or to read only (a query). */
export type OpenPurpose = 'write' | 'read';

function heldBy(path: string, message: string, purpose: OpenPurpose): UserError {
  const match = HOLDER.exec(message);
  const program = match?.[1];
  const pid = match?.[2] ? Number(match[2]) : undefined;
  const readOnly = /open this database in read-only mode/.test(message) ? ', read-only' : '';
  const holder = pid === undefined ? { kind: 'unknown' as const } : fileHolder(pid);
  if (holder.kind === 'stripe-elt') {
    const command = holder.command ?? 'command';
    if (purpose === 'read') {
      return new UserError(`Another stripe-elt ${command} is writing to ${path} (process ${pid}), and ${NO_READER}. Query it once the ${command} has finished.`, 'transient_error');
    }
    return new UserError(`Another stripe-elt ${command} is running on ${path} (process ${pid}): one writer at a time. Wait for it to finish, or stop it.`, 'transient_error');
  }
  const who = pid === undefined ? 'another process' : holder.kind === 'program' ? `another program, process ${pid} (${holder.commandLine})` : `another process, ${pid}${program ? ` (${program})` : ''}`;
  if (purpose === 'read') return new UserError(`${path} is open in ${who}, which writes to it, and ${NO_READER}. Close it there, or wait for that program to end, then run again.`, 'transient_error');
  return new UserError(`${path} is open in ${who}${readOnly}: ${ONE_WRITER}. Close it there, or wait for that program to end, then run again.`, 'transient_error');
}

export function openFailure(path: string, error: unknown, purpose: OpenPurpose = 'write'): UserError {
  const message = error instanceof Error ? error.message : String(error);
  if (/Could not set lock on file/.test(message)) return heldBy(path, message, purpose);
  if (/is not a valid DuckDB database file/.test(message)) {
    return new UserError(`${path} is not a DuckDB database: DuckDB does not recognise what the file holds. Give the path of a stripe-elt warehouse, or of a new file, with --warehouse duckdb:PATH.`);
  }
  if (/Corrupt database file|Could not read enough bytes|checksum/i.test(message)) {
    return new UserError(`${path} is a damaged DuckDB database, which DuckDB cannot read (${message.replace(/^IO Error: /, '')}). Restore it from a copy, or load into a new file with --warehouse duckdb:PATH.`);
  }
  return new UserError(`Cannot open the DuckDB warehouse ${path}: ${message}`);
}
