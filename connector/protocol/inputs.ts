// The files `read` is given: the configured catalog and the state. Parsed with zod here; the rest
// of the code sees typed values only.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { STREAM_NAMES, isStreamName, type StreamName } from '../streams/catalog.js';
import { parseStreamState, type StreamState } from '../sync/state.js';

const ConfiguredStreamSchema = z.looseObject({
  stream: z.looseObject({ name: z.string() }),
  sync_mode: z.enum(['full_refresh', 'incremental']),
  destination_sync_mode: z.string().optional(),
});

const ConfiguredCatalogSchema = z.looseObject({ streams: z.array(ConfiguredStreamSchema) });

/**
 * How the raw tables take a stream: always one row per object, its latest version. `overwrite`
 * (with full_refresh) also marks deleted, once the refresh completes, every row it did not read.
 */
export type DestinationSyncMode = 'append_dedup' | 'overwrite';

export interface SelectedStream {
  readonly name: StreamName;
  readonly syncMode: 'full_refresh' | 'incremental';
  readonly destinationSyncMode?: DestinationSyncMode;
}

function destinationMode(source: string, name: string, syncMode: SelectedStream['syncMode'], given: string | undefined): DestinationSyncMode {
  if (given === undefined || given === 'append_dedup') return 'append_dedup';
  if (given === 'overwrite') {
    if (syncMode === 'full_refresh') return 'overwrite';
    throw new UserError(`${source}: the stream "${name}" asks for incremental with overwrite, which would drop what earlier syncs read. Use append_dedup with incremental, or full_refresh with overwrite.`);
  }
  throw new UserError(
    `${source}: the stream "${name}" asks for destination_sync_mode "${given}". The raw tables keep one row per object, its latest version: ` +
      'use "append_dedup" (incremental or full_refresh), or "overwrite" with full_refresh.',
  );
}

export function parseConfiguredCatalog(raw: unknown, source = 'the catalog'): SelectedStream[] {
  const parsed = ConfiguredCatalogSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      `${source} is not a configured catalog: ${issue ? `${issue.path.join('.') || 'the file'}: ${issue.message}` : 'unknown problem'}. ` +
        'Expected {"streams": [{"stream": {"name": "customers", …}, "sync_mode": "incremental", "destination_sync_mode": "append_dedup"}, …]}; `discover` prints every stream.',
    );
  }
  if (parsed.data.streams.length === 0) {
    throw new UserError(`${source} selects no streams: there is nothing to read. List at least one stream (\`discover\` prints them all: ${STREAM_NAMES.join(', ')}).`);
  }
  const seen = new Set<string>();
  return parsed.data.streams.map((configured) => {
    const name = configured.stream.name;
    if (!isStreamName(name)) {
      throw new UserError(`${source} names a stream "${name}" that this source does not have. Its streams are: ${STREAM_NAMES.join(', ')}.`);
    }
    if (seen.has(name)) throw new UserError(`${source} lists the stream "${name}" twice.`);
    seen.add(name);
    return { name, syncMode: configured.sync_mode, destinationSyncMode: destinationMode(source, name, configured.sync_mode, configured.destination_sync_mode) };
  });
}

const StreamStateMessageSchema = z.looseObject({
  type: z.literal('STREAM'),
  stream: z.looseObject({
    stream_descriptor: z.looseObject({ name: z.string() }),
    stream_state: z.unknown().optional(),
  }),
});

/**
 * Reads a state file: a list of per-stream state messages (as Airbyte passes them), one such
 * message, or the last STATE line printed by `read`.
 */
export function parseState(raw: unknown, source = 'the state'): Map<StreamName, StreamState> {
  const messages: unknown[] = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && 'state' in raw ? [(raw as { state: unknown }).state] : [raw];
  const states = new Map<StreamName, StreamState>();
  if (Array.isArray(raw) && raw.length === 0) return states;
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0) return states;
  for (const message of messages) {
    const parsed = StreamStateMessageSchema.safeParse(message);
    if (!parsed.success) {
      throw new UserError(
        `${source} is not a stream state: expected a list of {"type": "STREAM", "stream": {"stream_descriptor": {"name": …}, "stream_state": …}} as printed by read.`,
      );
    }
    const name = parsed.data.stream.stream_descriptor.name;
    if (!isStreamName(name)) throw new UserError(`${source} holds state for an unknown stream "${name}".`);
    if (parsed.data.stream.stream_state === undefined || parsed.data.stream.stream_state === null) continue;
    const state = parseStreamState(parsed.data.stream.stream_state, name);
    if (!state.ok) throw new UserError(`${source}: the state of "${name}" is not one this source wrote (${state.problem}). Reset the stream, or start without --state.`);
    states.set(name, state.state);
  }
  return states;
}
