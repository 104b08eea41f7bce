// The Airbyte protocol messages this connector prints (protocol v0.3.2).
import type { FailureType } from '../errors.js';

export type StreamStatus = 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';
export type LogLevel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
export type SyncMode = 'full_refresh' | 'incremental';
export type DestinationSyncMode = 'append' | 'overwrite' | 'append_dedup' | 'update' | 'soft_delete';

export interface AirbyteStream {
  readonly name: string;
  readonly json_schema: Record<string, unknown>;
  readonly supported_sync_modes: readonly SyncMode[];
  readonly source_defined_cursor?: boolean;
  readonly default_cursor_field?: readonly string[];
  readonly source_defined_primary_key?: readonly (readonly string[])[];
  readonly is_resumable?: boolean;
}

export interface RecordMessage {
  readonly type: 'RECORD';
  readonly record: { readonly stream: string; readonly data: Record<string, unknown>; readonly emitted_at: number };
}

export interface StreamStateMessage {
  readonly type: 'STATE';
  readonly state: {
    readonly type: 'STREAM';
    readonly stream: { readonly stream_descriptor: { readonly name: string }; readonly stream_state: Record<string, unknown> };
    readonly sourceStats?: { readonly recordCount: number };
  };
}

export interface LogMessage {
  readonly type: 'LOG';
  readonly log: { readonly level: LogLevel; readonly message: string; readonly stack_trace?: string };
}

export interface TraceMessage {
  readonly type: 'TRACE';
  readonly trace:
    | {
        readonly type: 'STREAM_STATUS';
        readonly emitted_at: number;
        readonly stream_status: { readonly stream_descriptor: { readonly name: string }; readonly status: StreamStatus; readonly reasons?: readonly { type: 'RATE_LIMITED'; rate_limited?: { quota_reset?: number } }[] };
      }
    | {
        readonly type: 'ERROR';
        readonly emitted_at: number;
        readonly error: {
          readonly message: string;
          readonly internal_message?: string;
          readonly stack_trace?: string;
          readonly failure_type: FailureType;
          readonly stream_descriptor?: { readonly name: string };
        };
      };
}

export interface SpecMessage {
  readonly type: 'SPEC';
  readonly spec: {
    readonly documentationUrl?: string;
    readonly connectionSpecification: Record<string, unknown>;
    readonly supportsIncremental: boolean;
    readonly supported_destination_sync_modes: readonly DestinationSyncMode[];
  };
}

export interface ConnectionStatusMessage {
  readonly type: 'CONNECTION_STATUS';
  readonly connectionStatus: { readonly status: 'SUCCEEDED' | 'FAILED'; readonly message?: string };
}

export interface CatalogMessage {
  readonly type: 'CATALOG';
  readonly catalog: { readonly streams: readonly AirbyteStream[] };
}

export type AirbyteMessage = RecordMessage | StreamStateMessage | LogMessage | TraceMessage | SpecMessage | ConnectionStatusMessage | CatalogMessage;
