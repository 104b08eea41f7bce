#!/usr/bin/env node
// stripe-elt: the Airbyte source commands (spec, check, discover, read), and loading into a
// warehouse (write, load, reset). stdout carries protocol messages only for the source commands
// and `write`; diagnostics go to stderr.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig, readJsonFile } from './config.js';
import { UserError, scrubSecrets } from './errors.js';
import { createLogger } from './logger.js';
import { runCheck } from './commands/check.js';
import { catalogMessage } from './commands/discover.js';
import { specMessage } from './commands/spec.js';
import { parseConfiguredCatalog, parseState } from './protocol/inputs.js';
import { JsonLinesSink, ProtocolWriter } from './protocol/writer.js';
import { read } from './sync/read.js';
import { load, loadSummary, type LoadResult } from './commands/load.js';
import { reset } from './commands/reset.js';
import { write } from './commands/write.js';
import { Progress } from './load/progress.js';
import { standardInput } from './load/stdin.js';
import { DEFAULT_BATCH_RECORDS } from './load/pipeline.js';
import type { Loader } from './loaders/loader.js';
import { DEFAULT_WAREHOUSE, openWarehouse } from './loaders/warehouse.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT } from './loaders/duckdb/duckdb-loader.js';
import { STREAM_NAMES, type StreamName } from './streams/catalog.js';
import type { StreamState } from './sync/state.js';

const writer = new ProtocolWriter(new JsonLinesSink(process.stdout));
const logger = createLogger();

/** Runs a command; a failure becomes a TRACE error, a sentence on stderr and exit code 1. */
async function run(command: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await command()) ?? 0;
  } catch (error) {
    const user = error instanceof UserError ? error : undefined;
    const message = user ? user.message : `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
    const internal = user ? undefined : error instanceof Error ? error.stack : undefined;
    await writer.error(message, user?.failureType ?? 'system_error', internal);
    logger.error(scrubSecrets(message));
    process.exitCode = 1;
  }
  await writer.flush();
}

const config = { type: 'string', demandOption: true, describe: 'the source configuration (JSON, see `spec`)' } as const;

function warehouseOptions(y: Argv) {
  return y
    .option('warehouse', { type: 'string', default: DEFAULT_WAREHOUSE, describe: 'duckdb:PATH or bigquery:PROJECT' })
    .option('location', { type: 'string', describe: 'BigQuery: the location of new datasets (default US)' })
    .option('dataset-prefix', { type: 'string', describe: 'BigQuery: a prefix for the dataset names stripe_raw, stripe_marts, stripe_elt' })
    .option('bigquery-endpoint', { type: 'string', describe: "BigQuery: another API endpoint than Google's (a proxy, a local endpoint)" })
    .option('duckdb-memory-limit', { type: 'string', default: DEFAULT_DUCKDB_MEMORY_LIMIT, describe: 'DuckDB: the memory DuckDB may use while loading; beyond it, it spills to disk' })
    .option('batch-records', {
      type: 'number',
      default: DEFAULT_BATCH_RECORDS,
      describe: 'commit at the first STATE after this many records: fewer redo less after a crash, more load faster',
    });
}

function batchRecords(argv: { 'batch-records': number }): number {
  const n = argv['batch-records'];
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--batch-records must be a whole number of records, at least 1; it is ${String(n)}.`, 'config_error');
  return n;
}

/** Opens the warehouse for one command, and closes it whatever happens. */
async function withWarehouse(
  argv: { warehouse: string; location?: string | undefined; 'dataset-prefix'?: string | undefined; 'bigquery-endpoint'?: string | undefined; 'duckdb-memory-limit'?: string | undefined },
  use: (loader: Loader) => Promise<void>,
): Promise<void> {
  const loader = await openWarehouse(argv.warehouse, {
    ...(argv.location ? { location: argv.location } : {}),
    ...(argv['dataset-prefix'] ? { datasetPrefix: argv['dataset-prefix'] } : {}),
    ...(argv['bigquery-endpoint'] ? { apiEndpoint: argv['bigquery-endpoint'] } : {}),
    ...(argv['duckdb-memory-limit'] ? { duckdbMemoryLimit: argv['duckdb-memory-limit'] } : {}),
  });
  try {
    await loader.open();
    await use(loader);
  } finally {
    await loader.close();
  }
}

await yargs(hideBin(process.argv))
  .scriptName('stripe-elt')
  .usage('$0 <command> [options]\n\nLoads Stripe data (a platform and its connected accounts) into a warehouse.')
  .command('spec', 'print the SPEC message', {}, () =>
    run(async () => {
      await writer.send(specMessage());
    }),
  )
  .command('check', 'print CONNECTION_STATUS: is the key valid, what may it read', (y: Argv) => y.option('config', config), (argv) =>
    run(async () => {
      const message = await runCheck(readJsonFile(argv.config, 'config'), argv.config, logger);
      await writer.send(message);
      return message.connectionStatus.status === 'SUCCEEDED' ? 0 : 1;
    }),
  )
  .command('discover', 'print the CATALOG of every stream', (y: Argv) => y.option('config', config), (argv) =>
    run(async () => {
      loadConfig(argv.config);
      await writer.send(catalogMessage());
    }),
  )
  .command(
    'read',
    'print RECORD, STATE, LOG and TRACE messages for the streams of a configured catalog',
    (y: Argv) =>
      y
        .option('config', config)
        .option('catalog', { type: 'string', demandOption: true, describe: 'the configured catalog (JSON)' })
        .option('state', { type: 'string', describe: 'the state to resume from (JSON, as printed by read)' }),
    (argv) =>
      run(async () => {
        const sourceConfig = loadConfig(argv.config);
        writer.addSecret(sourceConfig.apiKey);
        const streams = parseConfiguredCatalog(readJsonFile(argv.catalog, 'catalog'), argv.catalog);
        const state: Map<StreamName, StreamState> = argv.state ? parseState(readJsonFile(argv.state, 'state'), argv.state) : new Map();
        await read({ config: sourceConfig, streams, state, writer, logger });
      }),
  )
  .command(
    'write',
    "load read's messages from stdin into the warehouse; print each STATE once committed",
    (y: Argv) => warehouseOptions(y),
    (argv) =>
      run(async () => {
        const batch = batchRecords(argv);
        await withWarehouse(argv, async (loader) => {
          const stats = await write(standardInput(), loader, writer, { batchRecords: batch, logger });
          logger.info({ records: stats.records, commits: stats.commits }, 'write finished');
        });
      }),
  )
  .command(
    'load',
    'read and write in one process; the state lives in the warehouse',
    (y: Argv) => warehouseOptions(y).option('config', config).option('catalog', { type: 'string', describe: 'the configured catalog (default: every stream, incremental)' }),
    (argv) =>
      run(async () => {
        const sourceConfig = loadConfig(argv.config);
        writer.addSecret(sourceConfig.apiKey);
        const streams = argv.catalog ? parseConfiguredCatalog(readJsonFile(argv.catalog, 'catalog'), argv.catalog) : STREAM_NAMES.map((name) => ({ name, syncMode: 'incremental' as const }));
        const batch = batchRecords(argv);
        await withWarehouse(argv, async (loader) => {
          const progress = new Progress(logger);
          progress.start();
          let result: LoadResult;
          try {
            result = await load({ config: sourceConfig, streams, loader, logger, progress, batchRecords: batch });
          } finally {
            progress.stop(); // its last figures come before the summary
          }
          process.stdout.write(`${loadSummary(result, loader)}\n`);
        });
      }),
  )
  .command(
    'reset',
    "drop a stream's (or every stream's) raw data and state",
    (y: Argv) =>
      warehouseOptions(y)
        .option('stream', { type: 'string', array: true, default: [] as string[], describe: 'a stream to reset (repeatable; default: every stream)' })
        .option('yes', { type: 'boolean', default: false, describe: 'confirm: the data cannot be recovered' }),
    (argv) =>
      run(async () => {
        await withWarehouse(argv, async (loader) => {
          process.stdout.write(`${await reset(loader, argv.stream, argv.yes)}\n`);
        });
      }),
  )
  .demandCommand(1, `Name a command: spec, check, discover, read, write, load or reset. Streams: ${STREAM_NAMES.join(', ')}.`)
  .strict()
  .fail((message, error) => {
    if (error) throw error;
    process.stderr.write(`${message}\nRun stripe-elt --help for the commands and their options.\n`);
    void writer.error(message, 'config_error').then(() => {
      process.exitCode = 2;
    });
  })
  .help()
  .parseAsync();
