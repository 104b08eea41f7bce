// The files `read` is given: the configured catalog and the state. Parsed with zod here; the rest
// of the code sees typed values only.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { STREAM_NAMES, isStreamName, type StreamName } from '../streams/catalog.js';
import { StreamStateSchema, type StreamState } from '../sync/state.js';

const ConfiguredStreamSchema = z.looseObject({
  stream: z.looseObject({ name: z.string() }),
  sync_mode: z.enum(['full_refresh', 'incremental']),
  destination_sync_mode: z.string().optional(),
});

const ConfiguredCatalogSchema = z.looseObject({ streams: z.array(ConfiguredStreamSchema) });

export interface SelectedStream {
  readonly name: StreamName;
  readonly syncMode: 'full_refresh' | 'incremental';
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
  const seen = new Set<string>();
  return parsed.data.streams.map((configured) => {
    const name = configured.stream.name;
    if (!isStreamName(name)) {
      throw new UserError(`${source} names a stream "${name}" that this source does not have. Its streams are: ${STREAM_NAMES.join(', ')}.`);
    }
    if (seen.has(name)) throw new UserError(`${source} lists the stream "${name}" twice.`);
    seen.add(name);
    return { name, syncMode: configured.sync_mode };
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
    const state = StreamStateSchema.safeParse(parsed.data.stream.stream_state);
    if (!state.success) {
      const issue = state.error.issues[0];
      throw new UserError(`${source}: the state of "${name}" is not one this source wrote (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown problem'}). Reset the stream, or start without --state.`);
    }
    states.set(name, state.data);
  }
  return states;
}
