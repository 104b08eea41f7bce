// `reset`: the "disconnect" of hosted tools: drops a stream's (or every stream's) raw data and
// state, so that the next load reads it again from the start.
import { UserError } from '../errors.js';
import type { Loader } from '../loaders/loader.js';
import { STREAM_NAMES, isStreamName } from '../streams/catalog.js';

export async function reset(loader: Loader, streams: readonly string[], confirmed: boolean): Promise<string> {
  for (const stream of streams) {
    if (!isStreamName(stream)) throw new UserError(`--stream ${stream}: there is no such stream. The streams are ${STREAM_NAMES.join(', ')}.`);
  }
  if (!loader.exists()) {
    throw new UserError(`There is no stripe-elt warehouse at ${loader.description}: nothing to reset, and nothing was created. Check --warehouse (and, for BigQuery, --dataset-prefix).`);
  }
  const what = streams.length === 0 ? 'every stream' : streams.join(', ');
  if (!confirmed) {
    throw new UserError(`reset drops the raw data and state of ${what} in ${loader.description}, which cannot be undone. Run it again with --yes to go ahead.`);
  }
  await loader.reset(streams.length === 0 ? 'all' : streams.filter(isStreamName));
  return `Dropped the raw data and state of ${what} in ${loader.description}; the next load reads ${streams.length === 1 ? 'it' : 'them'} again from the start.`;
}
