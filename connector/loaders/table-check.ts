// Whether a warehouse's existing tables are the ones stripe-elt creates: checked when a loader
// opens, before anything is written, so that another program's tables of the same names are
// refused with the difference instead of failing (or being written to) half-way through a load.
import { UserError } from '../errors.js';

/** How a table's columns (name to type) differ from ours, in words; empty if they do not. */
export function columnDifferences(actual: ReadonlyMap<string, string>, expected: ReadonlyMap<string, string>): string[] {
  const extra = [...actual].filter(([name]) => !expected.has(name)).map(([name, type]) => `${name} ${type}`);
  const missing = [...expected].filter(([name]) => !actual.has(name)).map(([name, type]) => `${name} ${type}`);
  const retyped = [...expected].filter(([name, type]) => actual.has(name) && actual.get(name) !== type).map(([name, type]) => `${name} is ${actual.get(name)}, not ${type}`);
  const out: string[] = [];
  if (extra.length > 0) out.push(`it has ${extra.join(', ')}, which stripe-elt's has not`);
  if (missing.length > 0) out.push(`it lacks ${missing.join(', ')}`);
  return [...out, ...retyped];
}

/** The refusal of a warehouse that holds other data than stripe-elt's. */
export function notOurs(warehouse: string, why: string, instead: string): UserError {
  return new UserError(`${warehouse} is not a stripe-elt warehouse: ${why}. Nothing was written to it; ${instead}.`);
}

/** The refusal of a table of ours that has other columns. */
export function otherColumns(warehouse: string, table: string, differences: readonly string[], instead: string): UserError {
  return notOurs(warehouse, `its table ${table} has other columns than stripe-elt's (${differences.join('; ')})`, instead);
}
