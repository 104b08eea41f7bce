// `write`'s input: the lines `read` prints, from stdin. Records take a fast path (their bytes go
// to the batch file unparsed with their line number; the warehouse parses them in bulk, and a
// line it cannot read fails the commit, named by that number); every other message is parsed
// and checked here. A line that is not a message, or an input cut in the middle of one, ends the
// load with a message naming the line, before anything after the last commit is written.
import { createReadStream, fstatSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import type { AirbyteMessage, StreamStateMessage } from '../protocol/messages.js';
import { notAMessage, type LoadPipeline } from './pipeline.js';

const RECORD_PREFIX = Buffer.from('{"type":"RECORD","record":{"stream":"');
const QUOTE = 0x22;
const NEWLINE = 0x0a;

async function handleLine(pipeline: LoadPipeline, line: Buffer, lineNumber: number): Promise<void> {
  if (line.length === 0) return;
  if (line.subarray(0, RECORD_PREFIX.length).equals(RECORD_PREFIX)) {
    const end = line.indexOf(QUOTE, RECORD_PREFIX.length);
    const stream = line.subarray(RECORD_PREFIX.length, end).toString('utf8');
    await pipeline.addRecord(line, stream, lineNumber);
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
    await pipeline.addRecord(JSON.stringify({ type: 'RECORD', record }), record.stream, lineNumber);
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

/**
 * Standard input. A file given with `<` is read 1 MiB at a time: Node's own stdin reads a file
 * 64 KiB at a time, each read a round trip to its thread pool (2.4 GB of messages: 9 s of reading
 * instead of 3.5). Pipes and terminals keep Node's stream.
 */
export function standardInput(): Readable {
  return fstatSync(0).isFile() ? createReadStream('', { fd: 0, highWaterMark: 1 << 20, autoClose: false }) : process.stdin;
}

/** Feeds every line of `input` to the pipeline; returns the number of messages (lines that are not empty). */
export async function readMessages(input: Readable, pipeline: LoadPipeline): Promise<number> {
  // The start of a line not yet ended, in pieces: a long line is joined once, when it ends.
  let pieces: Buffer[] = [];
  let lineNumber = 0;
  let messages = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      lineNumber++;
      const line = pieces.length > 0 ? Buffer.concat([...pieces, chunk.subarray(start, end)]) : chunk.subarray(start, end);
      pieces = [];
      if (line.length > 0) messages++;
      await handleLine(pipeline, line, lineNumber);
      start = end + 1;
    }
    if (start < chunk.length) pieces.push(chunk.subarray(start));
  }
  if (pieces.length > 0) {
    const last = Buffer.concat(pieces);
    lineNumber++;
    try {
      JSON.parse(last.toString('utf8'));
    } catch {
      throw new UserError(`The input ends in the middle of a message (line ${lineNumber}): it was cut short. Nothing after the last committed STATE was written.`);
    }
    messages++;
    await handleLine(pipeline, last, lineNumber);
  }
  return messages;
}
