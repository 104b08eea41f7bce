// `write`: the messages of `read` on stdin into the warehouse; each STATE is echoed on stdout
// once everything before it is committed.
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { LoadPipeline, type PipelineStats } from '../load/pipeline.js';
import { readMessages } from '../load/stdin.js';
import type { Loader } from '../loaders/loader.js';
import type { Logger } from '../logger.js';
import type { ProtocolWriter } from '../protocol/writer.js';

export async function write(input: Readable, loader: Loader, echo: ProtocolWriter, options: { batchRecords?: number; logger?: Logger } = {}): Promise<PipelineStats> {
  const pipeline = new LoadPipeline(loader, {
    ...options,
    onCommitted: async (states) => {
      for (const state of states) await echo.send(state);
    },
  });
  let messages: number;
  try {
    messages = await readMessages(input, pipeline);
  } catch (error) {
    await pipeline.abandon();
    throw error;
  }
  await pipeline.flush();
  // Nor was anything created: opening a warehouse creates nothing that outlives it.
  if (messages === 0) options.logger?.warn('No messages on stdin: nothing was loaded. write loads the messages that `stripe-elt read` prints, piped to it.');
  if (pipeline.stats.sourceError) {
    throw new UserError(`The source reported an error, and its records up to then were loaded: ${pipeline.stats.sourceError}`, 'system_error');
  }
  return pipeline.stats;
}
