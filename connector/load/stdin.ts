// `write`'s input: the lines `read` prints, from stdin. Records take a fast path (their bytes go
// to the batch file unparsed; the warehouse parses them in bulk); every other message is parsed
// and checked here. A line that is not a message, or an input cut in the middle of one, ends the
// load with a message naming the line, before anything after the last commit is written.
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import type { AirbyteMessage, StreamStateMessage } from '../protocol/messages.js';
import type { LoadPipeline } from './pipeline.js';

const RECORD_PREFIX = Buffer.from('{"type":"RECORD","record":{"stream":"');
const LIVE = Buffer.from('"livemode":true');
const TEST = Buffer.from('"livemode":false');
const QUOTE = 0x22;
const NEWLINE = 0x0a;

function notAMessage(lineNumber: number, reason: string): UserError {
  return new UserError(`Line ${lineNumber} of the input is not an Airbyte message (${reason}); nothing after the last committed STATE was written.`);
}

async function handleLine(pipeline: LoadPipeline, line: Buffer, lineNumber: number): Promise<void> {
  if (line.length === 0) return;
  if (line.subarray(0, RECORD_PREFIX.length).equals(RECORD_PREFIX)) {
    const end = line.indexOf(QUOTE, RECORD_PREFIX.length);
    const stream = line.subarray(RECORD_PREFIX.length, end).toString('utf8');
    const livemode = line.includes(LIVE) ? true : line.includes(TEST) ? false : undefined;
    await pipeline.addRecord(line, stream, livemode, lineNumber);
    return;
  }
  let message: unknown;
  try {
    message = JSON.parse(line.toString('utf8'));
  } catch (error) {
    throw notAMessage(lineNumber, (error as Error).message);
  }
  if (!message || typeof message !== 'object' || typeof (message as { type?: unknown }).type !== 'string') throw notAMessage(lineNumber, 'no "type"');
  const typed = message as AirbyteMessage;
  if (typed.type === 'RECORD') {
    const record = (typed as { record?: { stream?: unknown; data?: unknown } }).record;
    if (!record || typeof record.stream !== 'string' || !record.data || typeof record.data !== 'object') throw notAMessage(lineNumber, 'a RECORD needs record.stream and record.data');
    const data = record.data as Record<string, unknown>;
    await pipeline.addRecord(JSON.stringify({ type: 'RECORD', record }), record.stream, typeof data.livemode === 'boolean' ? data.livemode : undefined, lineNumber);
    return;
  }
  if (typed.type === 'STATE') {
    const state = (typed as { state?: { type?: unknown; stream?: { stream_descriptor?: { name?: unknown } } } }).state;
    if (!state || state.type !== 'STREAM' || typeof state.stream?.stream_descriptor?.name !== 'string') throw notAMessage(lineNumber, 'a STATE must be a per-stream state ("type": "STREAM")');
    await pipeline.addState(typed as StreamStateMessage);
    return;
  }
  await pipeline.write(typed);
}

/** Feeds every line of `input` to the pipeline; returns the number of lines. */
export async function readMessages(input: Readable, pipeline: LoadPipeline): Promise<number> {
  let pending: Buffer = Buffer.alloc(0);
  let lineNumber = 0;
  for await (const chunk of input) {
    let data = pending.length > 0 ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let end = data.indexOf(NEWLINE, start); end >= 0; end = data.indexOf(NEWLINE, start)) {
      lineNumber++;
      await handleLine(pipeline, data.subarray(start, end), lineNumber);
      start = end + 1;
    }
    // Copied out so that the chunk it came from can be let go.
    pending = Buffer.from(data.subarray(start));
    data = Buffer.alloc(0);
  }
  if (pending.length > 0) {
    lineNumber++;
    try {
      JSON.parse(pending.toString('utf8'));
    } catch {
      throw new UserError(`The input ends in the middle of a message (line ${lineNumber}): it was cut short. Nothing after the last committed STATE was written.`);
    }
    await handleLine(pipeline, pending, lineNumber);
  }
  return lineNumber;
}
