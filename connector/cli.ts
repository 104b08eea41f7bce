#!/usr/bin/env node
// stripe-elt: the Airbyte source commands (spec, check, discover, read). stdout carries protocol
// messages only; diagnostics go to stderr.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig, readJsonFile } from './config.js';
import { UserError, scrubSecrets } from './errors.js';
import { createLogger } from './logger.js';
import { runCheck } from './commands/check.js';
import { catalogMessage } from './commands/discover.js';
import { specMessage } from './commands/spec.js';
import { parseConfiguredCatalog, parseState } from './protocol/inputs.js';
import { ProtocolWriter } from './protocol/writer.js';
import { read } from './sync/read.js';
import { STREAM_NAMES, type StreamName } from './streams/catalog.js';
import type { StreamState } from './sync/state.js';

const writer = new ProtocolWriter(process.stdout);
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
  .demandCommand(1, `Name a command: spec, check, discover or read. Streams: ${STREAM_NAMES.join(', ')}.`)
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
