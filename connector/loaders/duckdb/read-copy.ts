// The read-only copy of a DuckDB warehouse that `serve` publishes: DuckDB lets no other process
// open a file that one process writes, so analysts (BI tools, the DuckDB CLI, `stripe-elt query`)
// read this copy while serve runs.
import { basename, dirname, join } from 'node:path';

/** `stripe.duckdb` → `stripe.readonly.duckdb`, beside it. */
export function readCopyPath(warehousePath: string): string {
  const name = basename(warehousePath);
  const stem = name.endsWith('.duckdb') ? name.slice(0, -'.duckdb'.length) : name;
  return join(dirname(warehousePath), `${stem}.readonly.duckdb`);
}
