// `discover`: the CATALOG of every stream, with its schema, sync modes, primary key and cursor.
import type { AirbyteStream, CatalogMessage } from '../protocol/messages.js';
import { STREAM_NAMES } from '../streams/catalog.js';
import schemas from '../streams/schemas.json' with { type: 'json' };

export function streamCatalog(): AirbyteStream[] {
  const all = schemas as Record<string, Record<string, unknown>>;
  return STREAM_NAMES.map((name) => ({
    name,
    json_schema: all[name] as Record<string, unknown>,
    supported_sync_modes: ['full_refresh', 'incremental'],
    source_defined_cursor: true,
    // The newest state of an object is the one with the largest observed_at.
    default_cursor_field: ['observed_at'],
    source_defined_primary_key: [['account_id'], ['id']],
    is_resumable: true,
  }));
}

export function catalogMessage(): CatalogMessage {
  return { type: 'CATALOG', catalog: { streams: streamCatalog() } };
}
