// Running the connector's real `read` (in this process, output captured) against a simulator,
// and comparing what it printed with the simulator's truth.
import { PassThrough } from 'node:stream';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { resolveConfig } from '../../connector/config.js';
import { silentLogger } from '../../connector/logger.js';
import { parseState, type SelectedStream } from '../../connector/protocol/inputs.js';
import { JsonLinesSink, ProtocolWriter } from '../../connector/protocol/writer.js';
import { STREAMS, STREAM_NAMES, type StreamName } from '../../connector/streams/catalog.js';
import { read, type ReadSummary } from '../../connector/sync/read.js';
import type { RunningSimulator } from '../simulator/index.js';
import { truth, type TruthLine } from '../simulator-spec/helpers.js';

export type Message = Record<string, unknown> & { type: string };

/** How the tests name one object of one account of one stream: `stream/account/id`. */
export function objectKey(stream: string, account: string, id: string): string {
  return `${stream}/${account}/${id}`;
}

/** The key of the object a RECORD message line carries. */
export function recordKey(line: string): string {
  const { stream, data } = (JSON.parse(line) as { record: { stream: string; data: { account_id: string; id: string } } }).record;
  return objectKey(stream, data.account_id, data.id);
}
export type Data = Record<string, unknown> & { id: string; account_id: string; observed_at: number; deleted?: boolean };

export interface ReadRun {
  readonly messages: Message[];
  readonly records: { stream: string; data: Data }[];
  /** The last STATE of each stream, as a state file holds it. */
  readonly state: Message[];
  readonly summary?: ReadSummary;
  readonly error?: Error;
}

export function configFor(sim: RunningSimulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { api_key: 'rk_test_simulator', api_base: sim.url, start_date: '2024-01-01', max_requests_per_second: 1000, ...extra };
}

export function allStreams(mode: 'incremental' | 'full_refresh' = 'incremental', names: readonly StreamName[] = STREAM_NAMES): SelectedStream[] {
  return names.map((name) => ({ name, syncMode: mode }));
}

/** The last STATE message of each stream among `messages`. */
export function lastStates(messages: readonly Message[]): Message[] {
  const last = new Map<string, Message>();
  for (const m of messages) {
    if (m.type !== 'STATE') continue;
    const state = m.state as { stream: { stream_descriptor: { name: string } } };
    last.set(state.stream.stream_descriptor.name, m.state as Message);
  }
  return [...last.values()];
}

/**
 * What survives a read killed after printing `printed`: each stream's records up to its last
 * STATE (a loader commits records with the state that follows them).
 */
export function committedRecords(printed: readonly Message[]): { stream: string; data: Data }[] {
  const lastStateAt = new Map<string, number>();
  printed.forEach((m, i) => {
    if (m.type === 'STATE') lastStateAt.set((m.state as { stream: { stream_descriptor: { name: string } } }).stream.stream_descriptor.name, i);
  });
  return printed
    .map((m, i) => ({ m, i }))
    .filter(({ m, i }) => m.type === 'RECORD' && i < (lastStateAt.get((m.record as { stream: string }).stream) ?? -1))
    .map(({ m }) => m.record as { stream: string; data: Data });
}

export async function runRead(options: {
  config: Record<string, unknown>;
  streams?: SelectedStream[];
  state?: Message[];
  env?: NodeJS.ProcessEnv;
  maxRetryTimeMs?: number;
}): Promise<ReadRun> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const writer = new ProtocolWriter(new JsonLinesSink(out));
  let summary: ReadSummary | undefined;
  let error: Error | undefined;
  try {
    const config = resolveConfig(options.config, 'config.json', options.env ?? {});
    summary = await read({
      config,
      streams: options.streams ?? allStreams(),
      state: options.state ? parseState(options.state) : new Map(),
      writer,
      logger: silentLogger(),
      ...(options.maxRetryTimeMs !== undefined ? { maxRetryTimeMs: options.maxRetryTimeMs } : {}),
    });
  } catch (e) {
    error = e as Error;
  }
  out.end();
  const messages = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Message);
  const records = messages
    .filter((m) => m.type === 'RECORD')
    .map((m) => {
      const record = m.record as { stream: string; data: Data };
      return { stream: record.stream, data: record.data };
    });
  return { messages, records, state: lastStates(messages), ...(summary ? { summary } : {}), ...(error ? { error } : {}) };
}

/** What a warehouse would hold after loading these records in order: the newest of each object. */
export function latest(...runs: readonly { stream: string; data: Data }[][]): Map<string, { stream: string; data: Data }> {
  const out = new Map<string, { stream: string; data: Data }>();
  for (const records of runs) {
    for (const record of records) {
      const key = objectKey(record.stream, record.data.account_id, record.data.id);
      const held = out.get(key);
      if (!held || record.data.observed_at >= held.data.observed_at) out.set(key, record);
    }
  }
  return out;
}

/** Stripe's object as the record carries it, without the fields the connector adds. */
export function stripeFields(stream: string, data: Data): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...data };
  delete copy.account_id;
  delete copy.observed_at;
  delete copy.deleted;
  if (STREAMS[stream as StreamName].addsLivemode) delete copy.livemode;
  return copy;
}

export interface Comparison {
  readonly matched: number;
  readonly missing: string[];
  readonly different: string[];
  readonly unexpected: string[];
}

/**
 * Compares a warehouse-like view with the simulator's truth. Events older than Stripe's
 * retention are no longer in the truth but stay in the warehouse: they are not "unexpected".
 */
export async function compareWithTruth(sim: RunningSimulator, held: Map<string, { stream: string; data: Data }>, mode: 'test' | 'live' = 'test'): Promise<Comparison> {
  const lines: TruthLine[] = await truth(sim, mode);
  const result: Comparison = { matched: 0, missing: [], different: [], unexpected: [] };
  const expected = new Set<string>();
  for (const line of lines) {
    const key = objectKey(line.stream, line.account_id, line.id);
    expected.add(key);
    const record = held.get(key);
    if (!record) {
      // A deleted object never seen alive needs no row (it was created and deleted between runs, or before the start).
      if (!line.deleted) result.missing.push(key);
      continue;
    }
    if (Boolean(record.data.deleted) !== line.deleted) {
      result.different.push(`${key}: deleted ${Boolean(record.data.deleted)}, truth ${line.deleted}`);
      continue;
    }
    if (line.deleted && record.data.object === 'account') {
      (result as { matched: number }).matched++;
      continue;
    }
    const ours = stripeFields(line.stream, record.data);
    if (JSON.stringify(sortKeys(ours)) !== JSON.stringify(sortKeys(line.object))) {
      const fields = [...new Set([...Object.keys(ours), ...Object.keys(line.object)])].filter((k) => JSON.stringify(ours[k]) !== JSON.stringify(line.object[k]));
      result.different.push(`${key}: ${fields.slice(0, 5).join(', ')}`);
      continue;
    }
    (result as { matched: number }).matched++;
  }
  for (const [key, record] of held) {
    if (!expected.has(key) && record.stream !== 'events') result.unexpected.push(key);
  }
  return result;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  return value;
}

let protocolValidator: ((message: unknown) => boolean) & { errors?: unknown } | undefined;

/** Validates a message against the Airbyte protocol's JSON schema (vendored, v0.3.2). */
export function protocolErrors(message: unknown): string | null {
  if (!protocolValidator) {
    const schema = parseYaml(readFileSync(new URL('../fixtures/vendor/airbyte_protocol.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema(schema, 'airbyte');
    protocolValidator = ajv.getSchema('airbyte#/definitions/AirbyteMessage') as typeof protocolValidator;
  }
  const validate = protocolValidator as NonNullable<typeof protocolValidator>;
  return validate(message) ? null : JSON.stringify(validate.errors);
}

/**
 * What a loader does with a completed backfill (`complete` in a partition's state): objects of
 * its created range seen before it and not listed by it no longer exist.
 */
export function applyCompleteBackfills(held: Map<string, { stream: string; data: Data }>, state: readonly Message[]): void {
  for (const message of state) {
    const stream = (message as unknown as { stream: { stream_descriptor: { name: string }; stream_state: { accounts: Record<string, { complete?: { from: number; to: number; since: number } }> } } }).stream;
    for (const [account, partition] of Object.entries(stream.stream_state.accounts ?? {})) {
      const complete = partition.complete;
      if (!complete) continue;
      for (const record of held.values()) {
        const data = record.data;
        const created = data.created as number | undefined;
        if (record.stream !== stream.stream_descriptor.name || data.account_id !== account || data.deleted || created === undefined) continue;
        if (created >= complete.from && created <= complete.to && data.observed_at < complete.since) {
          record.data = { ...data, deleted: true };
        }
      }
    }
  }
}

/** The stream statuses (STARTED, RUNNING, …) a run printed for one stream, in order. */
export function statusesOf(run: { messages: readonly Message[] }, stream: string): string[] {
  return run.messages
    .filter((m) => m.type === 'TRACE' && (m.trace as { type: string }).type === 'STREAM_STATUS')
    .map((m) => (m.trace as { stream_status: { stream_descriptor: { name: string }; status: string } }).stream_status)
    .filter((s) => s.stream_descriptor.name === stream)
    .map((s) => s.status);
}

/** The texts of the LOG messages a run printed (its warnings and notices). */
export function warnings(run: { messages: readonly Message[] }): string[] {
  return run.messages.filter((m) => m.type === 'LOG').map((m) => (m.log as { message: string }).message);
}
