// A DuckDB process killed while spilling, as a load is when it is killed in a large commit:
// `node --import tsx test/loaders/spill.ts PATH` opens the warehouse PATH as the DuckDB loader
// does (its spill folder PATH.tmp), fills a temporary table larger than its memory limit, so
// that DuckDB spills it to PATH.tmp, prints "spilled" and waits to be killed.
import { DuckDBInstance } from '@duckdb/node-api';

const path = process.argv[2];
if (!path) throw new Error('usage: spill.ts PATH');
const instance = await DuckDBInstance.create(':memory:', { memory_limit: '16MB', temp_directory: `${path}.tmp`, threads: '1' });
const connection = await instance.connect();
await connection.run(`ATTACH '${path.replaceAll("'", "''")}' AS warehouse`);
await connection.run("CREATE TEMP TABLE big AS SELECT range AS n, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS text FROM range(500000)");
process.stdout.write('spilled\n');
setInterval(() => {}, 60_000);
