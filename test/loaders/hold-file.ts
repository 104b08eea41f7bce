// A program other than stripe-elt holding a DuckDB file open, as an analyst's notebook or BI tool
// does: `node --import tsx test/loaders/hold-file.ts PATH [read-only]` prints "holding" once the
// file is open, and keeps it open until it is killed.
import { DuckDBInstance } from '@duckdb/node-api';

const [path, mode] = process.argv.slice(2);
if (!path) throw new Error('usage: hold-file.ts PATH [read-only]');
const instance = await DuckDBInstance.create(path, mode === 'read-only' ? { access_mode: 'READ_ONLY' } : {});
await instance.connect();
process.stdout.write('holding\n');
setInterval(() => {}, 60_000);
