#!/usr/bin/env node
// stripe-elt: the Airbyte source commands (spec, check, discover, read), loading into a warehouse
// (write, load, reset), and reading it (query). stdout carries protocol messages only for the
// source commands and `write`, which log JSON lines on stderr for whatever runs them; the commands
// a person runs (load, reset) speak sentences on a terminal; `query` prints its rows.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig, readJsonFile, type SourceConfig } from './config.js';
import { UserError, scrubSecrets } from './errors.js';
import { Terminal, createLogger, type Logger } from './logger.js';
import { runCheck } from './commands/check.js';
import { catalogMessage } from './commands/discover.js';
import { specMessage } from './commands/spec.js';
import { parseConfiguredCatalog, parseState, type SelectedStream } from './protocol/inputs.js';
import { JsonLinesSink, ProtocolWriter } from './protocol/writer.js';
import { read } from './sync/read.js';
import { load, loadSummary, queryExample, type LoadResult } from './commands/load.js';
import { reset } from './commands/reset.js';
import { write } from './commands/write.js';
import { QUERY_FORMATS, formatResult, runQuery } from './commands/query.js';
import { webhooksList, webhooksRegister, webhooksRemove } from './commands/webhooks.js';
import { Progress } from './load/progress.js';
import { standardInput } from './load/stdin.js';
import { DEFAULT_BATCH_RECORDS } from './load/pipeline.js';
import { EXIT, completedExitCode } from './commands/exit-codes.js';
import { parseVars, transform, type TransformCommandOptions } from './commands/transform.js';
import { transformReport } from '../transforms/report.js';
import { Interruption } from './commands/interruption.js';
import { parseDuration, serveSecrets } from './commands/serve.js';
import { ServeProcess, defaultJournalDir } from './serve/serve.js';
import { readCopyPath } from './loaders/duckdb/read-copy.js';
import { DEFAULT_WAREHOUSE, openReader, openWarehouse, type Warehouse, type WarehouseOptions } from './loaders/warehouse.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT, STRIPE_PACED_DUCKDB } from './loaders/duckdb/memory-limit.js';
import { STREAM_NAMES, type StreamName } from './streams/catalog.js';
import type { StreamState } from './sync/state.js';

const writer = new ProtocolWriter(new JsonLinesSink(process.stdout));
/** stderr, when a person reads it. */
const terminal = process.stderr.isTTY ? new Terminal(process.stderr) : undefined;
/** For the protocol commands: JSON lines on stderr, whatever stderr is. */
const protocolLogger = createLogger();
/** For the commands a person runs: sentences on a terminal, JSON lines for log collectors otherwise. */
const personLogger = terminal ? createLogger({ terminal }) : protocolLogger;

/** Who reads what a command prints: a program (the protocol commands), or a person (load, reset). */
type Audience = 'program' | 'person';

/**
 * Runs a command; a failure is exit code 1 and one sentence on stderr, with a TRACE error on
 * stdout for a program, or for a person's command whose stdout is not a terminal (a script).
 */
async function run(audience: Audience, command: (logger: Logger) => Promise<number | void>): Promise<void> {
  const logger = audience === 'person' ? personLogger : protocolLogger;
  try {
    process.exitCode = (await command(logger)) ?? 0;
  } catch (error) {
    const user = error instanceof UserError ? error : undefined;
    const message = user ? user.message : `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
    const internal = user ? undefined : error instanceof Error ? error.stack : undefined;
    if (audience === 'program' || !process.stdout.isTTY) await writer.error(message, user?.failureType ?? 'system_error', internal);
    logger.error(scrubSecrets(message));
    process.exitCode = EXIT.failure;
  }
  await writer.flush();
}

/** A command line yargs refused: the command stops before any work, with exit code 2. */
class UsageError extends Error {}

/** The number of one-character edits (insertions, deletions, substitutions) between two words. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** The known name nearest to a mistyped one, if it is near enough to be what was meant. */
function nearest(word: string, known: readonly string[]): string | undefined {
  // One edit in three letters at most: "lod" is load, "fast" is nothing.
  const nearEnough = Math.max(1, Math.floor(word.length / 3));
  const [best] = known
    .map((name) => ({ name, distance: editDistance(word.toLowerCase(), name.toLowerCase()) }))
    .filter(({ distance }) => distance <= nearEnough)
    .sort((a, b) => a.distance - b.distance);
  return best?.name;
}

const config = { type: 'string', demandOption: true, describe: 'the source configuration (JSON, see `spec`)' } as const;
const allowPartial = {
  type: 'boolean',
  default: false,
  describe: `exit ${EXIT.ok} from a run that completed but left streams or accounts incomplete (by default ${EXIT.partial}, so that orchestrators alert)`,
} as const;

const warehouseOptions = {
  warehouse: { type: 'string', default: DEFAULT_WAREHOUSE, describe: 'duckdb:PATH or bigquery:PROJECT' },
  location: { type: 'string', describe: 'BigQuery: the location of new datasets (default US)' },
  'dataset-prefix': { type: 'string', describe: 'BigQuery: a prefix for the dataset names stripe_raw, stripe_marts, stripe_elt' },
  'bigquery-endpoint': { type: 'string', describe: "BigQuery: another API endpoint than Google's (a proxy, a local endpoint)" },
  'duckdb-memory-limit': {
    type: 'string',
    describe: `DuckDB: the memory DuckDB may use (default ${STRIPE_PACED_DUCKDB.memoryLimit} for load, sync and serve, ${DEFAULT_DUCKDB_MEMORY_LIMIT} for write, half of the machine's for a build); beyond it, it spills to disk`,
  },
  'batch-records': {
    type: 'number',
    default: DEFAULT_BATCH_RECORDS,
    describe: 'commit at the first STATE after this many records (or 16 MB of them): fewer redo less after a crash, more load faster',
  },
} as const;

/** The warehouse options of a command that loads nothing. */
function warehouseOnly() {
  const { 'batch-records': _, ...rest } = warehouseOptions;
  return rest;
}

const transformOptions = {
  select: { type: 'string', array: true, default: [] as string[], describe: "the models to build, as dbt selects them: name, +name, name+, tag:x, path:models/staging (repeatable; default: all)" },
  exclude: { type: 'string', array: true, default: [] as string[], describe: 'models not to build, in the same syntax' },
  'full-refresh': { type: 'boolean', default: false, describe: 'rebuild incremental models whole' },
  vars: { type: 'string', describe: "the project's vars, as YAML: '{name: value}'" },
  'project-dir': { type: 'string', describe: 'a dbt project other than stripe-elt\'s own sql/' },
  wait: { type: 'number', default: 600, describe: 'seconds to wait for a load that holds the warehouse before giving up' },
} as const;

const webhookUrl = { type: 'string', describe: 'the https URL Stripe posts events to, where stripe-elt serve receives them (http only for 127.0.0.1 and localhost)' } as const;
const secretFile = { type: 'string', describe: "the file of the endpoints' signing secrets (JSON, mode 0600), which serve reads" } as const;

/** The config of a command that only talks to Stripe: its key is redacted from a TRACE error. */
function keyedConfig(path: string): SourceConfig {
  const sourceConfig = loadConfig(path);
  writer.addSecret(sourceConfig.apiKey);
  return sourceConfig;
}

/** The options of each `webhooks` subcommand. */
const WEBHOOKS_OPTIONS = {
  register: { config, url: { ...webhookUrl, demandOption: true }, 'secret-file': { ...secretFile, demandOption: true } },
  list: { config },
  remove: {
    config,
    url: { ...webhookUrl, describe: "remove stripe-elt's endpoints at this URL" },
    'all-ours': { type: 'boolean', describe: "remove every stripe-elt endpoint of the account (those with metadata stripe_elt)" },
    'secret-file': { ...secretFile, describe: 'drop the removed endpoints\' secrets from this file' },
  },
} as const;

/** Every command's options: yargs parses them, and a mistyped option is compared with them. */
const OPTIONS = {
  spec: {},
  check: { config },
  discover: { config },
  read: {
    config,
    catalog: { type: 'string', demandOption: true, describe: 'the configured catalog (JSON)' },
    state: { type: 'string', describe: 'the state to resume from (JSON, as printed by read)' },
    'allow-partial': allowPartial,
  },
  write: { ...warehouseOptions, 'allow-partial': allowPartial },
  load: { ...warehouseOptions, config, catalog: { type: 'string', describe: 'the configured catalog (default: every stream, incremental)' }, 'allow-partial': allowPartial },
  reset: {
    ...warehouseOptions,
    stream: { type: 'string', array: true, default: [] as string[], describe: 'a stream to reset (repeatable; default: every stream)' },
    yes: { type: 'boolean', default: false, describe: 'confirm: the data cannot be recovered' },
  },
  transform: { ...warehouseOnly(), ...transformOptions },
  sync: { ...warehouseOptions, config, catalog: { type: 'string', describe: 'the configured catalog of the load (default: every stream, incremental)' }, 'allow-partial': allowPartial, ...transformOptions },
  serve: {
    ...warehouseOptions,
    config,
    catalog: { type: 'string', describe: 'the configured catalog of the syncs and of the events applied (default: every stream, incremental)' },
    'secret-file': { type: 'string', default: 'webhook-secrets.json', describe: 'the signing secrets `webhooks register` wrote (JSON, mode 0600)' },
    host: { type: 'string', default: '127.0.0.1', describe: 'the address to listen on (behind a proxy that terminates TLS)' },
    port: { type: 'number', default: 8080, describe: 'the port to listen on' },
    journal: { type: 'string', describe: 'the folder of events received and not yet committed (default: beside the warehouse, PATH.journal)' },
    'sync-every': { type: 'string', default: '24h', describe: 'how often the incremental sync runs, the first at start (90s, 30m, 24h; 0: never)' },
    'transform-every': { type: 'string', default: '5m', describe: 'the models are built after a commit, at most this often (0: never)' },
    'read-copy': { type: 'string', describe: 'DuckDB: the read-only copy for analysts, refreshed after each build (default: PATH.readonly.duckdb beside the warehouse)' },
  },
  query: {
    warehouse: warehouseOptions.warehouse,
    format: {
      type: 'string',
      choices: QUERY_FORMATS,
      describe: 'table (aligned text; the default on a terminal), csv (RFC 4180), or json (one object a line; the default otherwise)',
    },
    location: { type: 'string', describe: 'BigQuery: where the query runs (default: where the tables it names are)' },
    'bigquery-endpoint': warehouseOptions['bigquery-endpoint'],
    'duckdb-memory-limit': { ...warehouseOptions['duckdb-memory-limit'], describe: `DuckDB: the memory DuckDB may use for the query (default ${DEFAULT_DUCKDB_MEMORY_LIMIT})` },
  },
  // Its subcommands' options together, which a mistyped one is compared with.
  webhooks: { ...WEBHOOKS_OPTIONS.list, ...WEBHOOKS_OPTIONS.register, ...WEBHOOKS_OPTIONS.remove },
} as const;

type Command = keyof typeof OPTIONS;

const WAITING_FOR_STDIN =
  'write is waiting for Airbyte messages on stdin, one JSON object a line (Ctrl-D ends them). It loads what read prints: ' +
  'stripe-elt read --config config.json --catalog catalog.json | stripe-elt write --warehouse duckdb:stripe.duckdb';
const COMMANDS = Object.keys(OPTIONS) as Command[];

function batchRecords(argv: { 'batch-records': number }): number {
  const n = argv['batch-records'];
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--batch-records must be a whole number of records, at least 1; it is ${String(n)}.`, 'config_error');
  return n;
}

interface WarehouseArguments {
  warehouse: string;
  location?: string | undefined;
  'dataset-prefix'?: string | undefined;
  'bigquery-endpoint'?: string | undefined;
  'duckdb-memory-limit'?: string | undefined;
}

function warehouseOptionsOf(argv: WarehouseArguments, logger?: Logger): WarehouseOptions {
  return {
    ...(argv.location ? { location: argv.location } : {}),
    ...(argv['dataset-prefix'] ? { datasetPrefix: argv['dataset-prefix'] } : {}),
    ...(argv['bigquery-endpoint'] ? { apiEndpoint: argv['bigquery-endpoint'] } : {}),
    ...(argv['duckdb-memory-limit'] ? { duckdbMemoryLimit: argv['duckdb-memory-limit'] } : {}),
    ...(logger ? { logger } : {}),
  };
}

/**
 * Opens the warehouse for one command, and closes it whatever happens. With `waitSeconds`, a
 * warehouse another process holds (a load) is tried again every few seconds until then, saying so.
 * `pacedByStripe`: the command reads Stripe in this process (DuckDB's settings for such loads).
 */
async function withWarehouse(
  argv: WarehouseArguments,
  logger: Logger,
  use: (warehouse: Warehouse) => Promise<void>,
  { waitSeconds = 0, pacedByStripe = false }: { waitSeconds?: number; pacedByStripe?: boolean } = {},
): Promise<void> {
  const warehouse = await openWarehouse(argv.warehouse, { ...warehouseOptionsOf(argv, logger), pacedByStripe });
  const giveUpAt = performance.now() + waitSeconds * 1000;
  for (let said = false; ; ) {
    try {
      await warehouse.open();
      break;
    } catch (error) {
      const held = error instanceof UserError && error.failureType === 'transient_error';
      if (!held || performance.now() >= giveUpAt) throw error;
      const minutes = waitSeconds >= 60 && waitSeconds % 60 === 0 ? waitSeconds / 60 : undefined;
      const howLong = minutes !== undefined ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${waitSeconds} second${waitSeconds === 1 ? '' : 's'}`;
      if (!said) logger.warn(`${error.message} Waiting for it, up to ${howLong} (--wait).`);
      said = true;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    await use(warehouse);
  } finally {
    await warehouse.close();
  }
}

interface LoadArguments extends WarehouseArguments {
  config: string;
  catalog?: string | undefined;
  'batch-records': number;
  'allow-partial': boolean;
}

/** What a load reads, from its arguments: checked before the warehouse is opened. */
function prepareLoad(argv: LoadArguments): { config: SourceConfig; streams: SelectedStream[]; batch: number } {
  const config = loadConfig(argv.config);
  writer.addSecret(config.apiKey);
  const streams = argv.catalog ? parseConfiguredCatalog(readJsonFile(argv.catalog, 'catalog'), argv.catalog) : STREAM_NAMES.map((name) => ({ name, syncMode: 'incremental' as const }));
  return { config, streams, batch: batchRecords(argv) };
}

/** `load` in an open warehouse: progress, the summary, and the exit code it earns. */
async function runLoad(prepared: ReturnType<typeof prepareLoad>, argv: LoadArguments, logger: Logger, warehouse: Warehouse): Promise<{ code: number; interrupted: boolean }> {
  const progress = new Progress(logger, terminal);
  const interruption = new Interruption().install((signal) => logger.warn(`${signal}: stopping at the next page, and committing what was read. (Again to quit at once: the last commit holds.)`));
  progress.start();
  let result: LoadResult;
  try {
    result = await load({ config: prepared.config, streams: prepared.streams, loader: warehouse, logger, progress, batchRecords: prepared.batch, signal: interruption.signal });
  } finally {
    progress.stop(); // its last figures come before the summary
    interruption.dispose();
  }
  const example = queryExample(warehouse, queryFlags(argv));
  process.stdout.write(`${loadSummary(result, { description: warehouse.description, queryExample: example }, argv['allow-partial'])}\n`);
  return { code: interruption.exitCode ?? completedExitCode(result.read, argv['allow-partial']), interrupted: interruption.exitCode !== undefined };
}

interface TransformArguments extends WarehouseArguments {
  select: string[];
  exclude: string[];
  'full-refresh': boolean;
  vars?: string | undefined;
  'project-dir'?: string | undefined;
}

function transformOptionsOf(argv: TransformArguments): TransformCommandOptions {
  return {
    select: argv.select,
    exclude: argv.exclude,
    fullRefresh: argv['full-refresh'],
    vars: parseVars(argv.vars),
    ...(argv['project-dir'] ? { projectDir: argv['project-dir'] } : {}),
    ...(argv['dataset-prefix'] ? { datasetPrefix: argv['dataset-prefix'] } : {}),
    ...(argv['duckdb-memory-limit'] ? { duckdbMemoryLimit: argv['duckdb-memory-limit'] } : {}),
  };
}

/** `transform` in an open warehouse: the report on stdout; exit 1 if a model or a data test failed. */
async function runTransform(warehouse: Warehouse, options: TransformCommandOptions): Promise<number> {
  if (!(await warehouse.exists())) {
    throw new UserError(`There is no stripe-elt warehouse at ${warehouse.description}: nothing to transform. Load it first (stripe-elt load, or stripe-elt sync).`);
  }
  const summary = await transform(warehouse, options);
  process.stdout.write(`${transformReport(summary)}\n`);
  return summary.failures > 0 ? EXIT.failure : EXIT.ok;
}

/** The flags a query needs to reach the warehouse these arguments name (BigQuery: its location, its endpoint). */
function queryFlags(argv: WarehouseArguments): string[] {
  if (!argv.warehouse.startsWith('bigquery:')) return [];
  return [...(argv.location ? ['--location', argv.location] : []), ...(argv['bigquery-endpoint'] ? ['--bigquery-endpoint', argv['bigquery-endpoint']] : [])];
}

/**
 * Runs `query`, whose stdout is its result: a failure is one sentence on stderr (no TRACE, which
 * would mix with the rows), exit code 1.
 */
async function answer(command: () => Promise<void>): Promise<void> {
  // A reader that stops early (`| head`) is not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  try {
    await command();
    process.exitCode = EXIT.ok;
  } catch (error) {
    const message = error instanceof UserError ? error.message : `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${scrubSecrets(message)}\n`);
    process.exitCode = EXIT.failure;
  }
}

const args = hideBin(process.argv);

/** yargs' complaint about the command line, as one sentence that names what was meant where it can tell. */
function usageMessage(complaint: string): string {
  const first = args.find((arg) => !arg.startsWith('-'));
  const command = COMMANDS.find((name) => name === first);
  const help = command ? `Run stripe-elt ${command} --help for its options.` : 'Run stripe-elt --help for the commands.';
  const missing = /^Missing required arguments?: (.*)$/.exec(complaint);
  if (missing) return `${complaint.slice(0, complaint.indexOf(':'))}: ${(missing[1] as string).split(', ').map((name) => `--${name}`).join(', ')}. ${help}`;
  const unknown = /^Unknown arguments?: (.*)$/.exec(complaint);
  if (!unknown) return `${complaint.replace(/\.$/, '')}. ${help}`;
  const isOption = (name: string) => args.some((arg) => /^--?[^-]/.test(arg) && arg.replace(/^--?/, '').split('=')[0] === name);
  let unknowns = (unknown[1] as string).split(', ');
  // Without a command, its options are no more known than it is: the command is what is wrong.
  if (!command && unknowns.some((name) => !isOption(name))) unknowns = unknowns.filter((name) => !isOption(name));
  const names = unknowns.map((name) => {
    if (isOption(name)) {
      const meant = nearest(name, [...Object.keys(command ? OPTIONS[command] : {}), 'help', 'version']);
      return meant ? `--${name} (did you mean --${meant}?)` : `--${name}`;
    }
    const meant = command ? undefined : nearest(name, COMMANDS);
    return meant ? `${name} (did you mean ${meant}?)` : name;
  });
  return `Unknown argument${names.length > 1 ? 's' : ''}: ${names.join(', ')}. ${help}`;
}

const commandLine = yargs(args)
  .scriptName('stripe-elt')
  .usage('$0 <command> [options]\n\nLoads Stripe data (a platform and its connected accounts) into a warehouse.')
  .command('spec', 'print the SPEC message', OPTIONS.spec, () =>
    run('program', async () => {
      await writer.send(specMessage());
    }),
  )
  .command('check', 'print CONNECTION_STATUS: is the key valid, what may it read', (y: Argv) => y.options(OPTIONS.check), (argv) =>
    run('program', async (logger) => {
      const message = await runCheck(argv.config, logger);
      await writer.send(message);
      return message.connectionStatus.status === 'SUCCEEDED' ? 0 : 1;
    }),
  )
  .command('discover', 'print the CATALOG of every stream', (y: Argv) => y.options(OPTIONS.discover), (argv) =>
    run('program', async () => {
      loadConfig(argv.config);
      await writer.send(catalogMessage());
    }),
  )
  .command(
    'read',
    'print RECORD, STATE, LOG and TRACE messages for the streams of a configured catalog',
    (y: Argv) => y.options(OPTIONS.read),
    (argv) =>
      run('program', async (logger) => {
        const sourceConfig = loadConfig(argv.config);
        writer.addSecret(sourceConfig.apiKey);
        const streams = parseConfiguredCatalog(readJsonFile(argv.catalog, 'catalog'), argv.catalog);
        const state: Map<StreamName, StreamState> = argv.state ? parseState(readJsonFile(argv.state, 'state'), argv.state) : new Map();
        const interruption = new Interruption().install((signal) => logger.warn(`${signal}: stopping at the next page; the last STATE printed covers every record before it. (Again to quit at once.)`));
        try {
          const summary = await read({ config: sourceConfig, streams, state, writer, logger, signal: interruption.signal });
          return interruption.exitCode ?? completedExitCode(summary, argv['allow-partial']);
        } finally {
          interruption.dispose();
        }
      }),
  )
  .command(
    'write',
    "load read's messages from stdin into the warehouse; print each STATE once committed",
    (y: Argv) => y.options(OPTIONS.write),
    (argv) =>
      run('program', async (logger) => {
        const batch = batchRecords(argv);
        let code: number = EXIT.ok;
        // A person who typed `write` alone: say what it waits for (messages from a program).
        if (process.stdin.isTTY) personLogger.info(WAITING_FOR_STDIN);
        await withWarehouse(argv, logger, async (loader) => {
          const stats = await write(standardInput(), loader, writer, { batchRecords: batch, logger });
          logger.info({ records: stats.records, commits: stats.commits }, 'write finished');
          if (stats.incompleteStreams.size > 0) {
            logger.warn(`The source reported ${[...stats.incompleteStreams].join(', ')} incomplete; what it read was loaded.`);
            if (!argv['allow-partial']) code = EXIT.partial;
          }
        });
        return code;
      }),
  )
  .command(
    'load',
    'read and write in one process; the state lives in the warehouse',
    (y: Argv) => y.options(OPTIONS.load),
    (argv) =>
      run('person', async (logger) => {
        const prepared = prepareLoad(argv);
        let code: number = EXIT.ok;
        await withWarehouse(
          argv,
          logger,
          async (warehouse) => {
            code = (await runLoad(prepared, argv, logger, warehouse)).code;
          },
          { pacedByStripe: true },
        );
        return code;
      }),
  )
  .command(
    'transform',
    "build the models of sql/ (a dbt project) in the warehouse, and run their data tests",
    (y: Argv) => y.options(OPTIONS.transform),
    (argv) =>
      run('person', async (logger) => {
        const options = transformOptionsOf(argv);
        let code: number = EXIT.ok;
        await withWarehouse(argv, logger, async (warehouse) => {
          code = await runTransform(warehouse, options);
        }, { waitSeconds: argv.wait });
        return code;
      }),
  )
  .command(
    'sync',
    'load, then transform, in one process',
    (y: Argv) => y.options(OPTIONS.sync),
    (argv) =>
      run('person', async (logger) => {
        const prepared = prepareLoad(argv);
        const options = transformOptionsOf(argv);
        let code: number = EXIT.ok;
        await withWarehouse(argv, logger, async (warehouse) => {
          const loaded = await runLoad(prepared, argv, logger, warehouse);
          // A load stopped by a signal stops there; a partial one is transformed, and keeps its code.
          if (loaded.interrupted) {
            code = loaded.code;
            return;
          }
          process.stdout.write('\n');
          const built = await runTransform(warehouse, options);
          code = built !== EXIT.ok ? built : loaded.code;
        }, { waitSeconds: argv.wait, pacedByStripe: true });
        return code;
      }),
  )
  .command(
    'reset',
    "drop a stream's (or every stream's) raw data and state",
    (y: Argv) => y.options(OPTIONS.reset),
    (argv) =>
      run('person', async (logger) => {
        await withWarehouse(argv, logger, async (loader) => {
          process.stdout.write(`${await reset(loader, argv.stream, argv.yes)}\n`);
        });
      }),
  )
  .command(
    'serve',
    "the warehouse's one long-running writer: receive Stripe's signed events on POST /webhooks, sync on a schedule, build the models",
    (y: Argv) => y.options(OPTIONS.serve),
    (argv) =>
      run('person', async (logger) => {
        const prepared = prepareLoad({ ...argv, 'allow-partial': false });
        const secrets = serveSecrets(argv['secret-file']);
        const syncEvery = parseDuration(argv['sync-every'], '--sync-every') ?? 0;
        const transformEvery = parseDuration(argv['transform-every'], '--transform-every');
        if (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65_535) throw new UserError(`--port ${argv.port}: give a port number from 0 to 65535.`, 'config_error');
        await withWarehouse(argv, logger, async (warehouse) => {
          const duckdbPath = warehouse.description.startsWith('duckdb:') ? warehouse.description.slice('duckdb:'.length) : undefined;
          const readCopy = argv['read-copy'] ?? (duckdbPath ? readCopyPath(duckdbPath) : undefined);
          const serve = new ServeProcess({
            config: prepared.config,
            streams: prepared.streams,
            warehouse,
            secrets,
            journalDir: argv.journal ?? defaultJournalDir(argv.warehouse),
            host: argv.host,
            port: argv.port,
            syncEverySeconds: syncEvery,
            transformEverySeconds: transformEvery,
            transformOptions: { ...(argv['dataset-prefix'] ? { datasetPrefix: argv['dataset-prefix'] } : {}), ...(argv['duckdb-memory-limit'] ? { duckdbMemoryLimit: argv['duckdb-memory-limit'] } : {}) },
            ...(readCopy ? { readCopy } : {}),
            logger,
          });
          const stopped = new Promise<string>((resolve) => {
            process.once('SIGTERM', () => resolve('SIGTERM'));
            process.once('SIGINT', () => resolve('SIGINT'));
          });
          await serve.start();
          if (readCopy) logger.info(`Analysts: open the read-only copy ${readCopy} (refreshed after each build), or run stripe-elt query --warehouse ${argv.warehouse}.`);
          const signal = await stopped;
          logger.info(`${signal}: no longer taking deliveries; committing what was accepted.`);
          await serve.stop();
          logger.info('Stopped: every event accepted is in the warehouse.');
        }, { pacedByStripe: true });
      }),
  )
  .command(
    'query <sql>',
    'run a read-only query on the warehouse and print its rows',
    (y: Argv) => y.positional('sql', { type: 'string', describe: 'the query, in the warehouse\'s SQL (DuckDB, or BigQuery\'s GoogleSQL)' }).options(OPTIONS.query),
    (argv) =>
      answer(async () => {
        const client = await openReader(argv.warehouse, { ...warehouseOptionsOf(argv), onNote: (sentence) => process.stderr.write(`${sentence}\n`) });
        try {
          const result = await runQuery(client, String(argv.sql ?? ''));
          process.stdout.write(formatResult(result, argv.format ?? (process.stdout.isTTY ? 'table' : 'json')));
        } finally {
          await client.close();
        }
      }),
  )
  .command('webhooks', "stripe-elt's webhook endpoints on the Stripe account: register, list, remove", (y: Argv) =>
    y
      .command('register', 'create (or reuse) the platform and Connect endpoints for a URL; their signing secrets go to --secret-file', (sub: Argv) => sub.options(WEBHOOKS_OPTIONS.register), (argv) =>
        run('person', async () => {
          process.stdout.write(`${await webhooksRegister({ config: keyedConfig(argv.config), configPath: argv.config, url: argv.url, secretFile: argv['secret-file'] })}\n`);
        }),
      )
      .command('list', "list the account's webhook endpoints, stripe-elt's marked (never a secret)", (sub: Argv) => sub.options(WEBHOOKS_OPTIONS.list), (argv) =>
        run('person', async () => {
          process.stdout.write(`${await webhooksList(keyedConfig(argv.config))}\n`);
        }),
      )
      .command(
        'remove',
        "delete stripe-elt's endpoints (at --url, or --all-ours) and drop their secrets from --secret-file",
        (sub: Argv) =>
          sub
            .options(WEBHOOKS_OPTIONS.remove)
            .conflicts('url', 'all-ours')
            .check((argv) => {
              // Thrown, not returned: yargs hands a returned complaint to .fail as an error of its own.
              if (argv.url === undefined && !argv['all-ours']) throw new UsageError(usageMessage('Name the endpoints to remove: --url URL, or --all-ours.'));
              return true;
            }),
        (argv) =>
          run('person', async () => {
            const which = argv.url === undefined ? ('all-ours' as const) : { url: argv.url };
            process.stdout.write(`${await webhooksRemove({ config: keyedConfig(argv.config), which, secretFile: argv['secret-file'] })}\n`);
          }),
      )
      .demandCommand(1, 'Name a webhooks command: register, list or remove.'),
  )
  .demandCommand(1, `Name a command: ${COMMANDS.slice(0, -1).join(', ')} or ${COMMANDS.at(-1)}. Streams: ${STREAM_NAMES.join(', ')}.`)
  .strict()
  // Our messages are English; yargs' must be too, for usageMessage to read them.
  .locale('en')
  .fail((message, error) => {
    if (error) throw error;
    throw new UsageError(scrubSecrets(usageMessage(message)));
  })
  .help();

try {
  // yargs throws a refusal at once, or rejects with it after an async step: both land here.
  await commandLine.parseAsync();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  if (!process.stdout.isTTY) await writer.error(error.message, 'config_error');
  await writer.flush();
  process.exitCode = EXIT.usage;
}
