// The batch file: its lines, and a writer waiting for the disk when the batch goes to commit.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatchFile } from '../../connector/loaders/batch.js';

describe('BatchFile', () => {
  it('writes each RECORD line with its arrival order in front, and counts the records and their streams', async () => {
    const batch = new BatchFile();
    await batch.addLine('{"type":"RECORD","record":{"stream":"customers","data":{"id":"cus_1"}}}', 'customers');
    await batch.addLine(Buffer.from('{"type":"RECORD","record":{"stream":"charges","data":{"id":"ch_1"}}}'), 'charges');
    await batch.seal();
    expect(readFileSync(batch.path, 'utf8')).toBe(
      '{"seq":1,"type":"RECORD","record":{"stream":"customers","data":{"id":"cus_1"}}}\n{"seq":2,"type":"RECORD","record":{"stream":"charges","data":{"id":"ch_1"}}}\n',
    );
    expect([batch.records, [...batch.streams]]).toEqual([2, ['customers', 'charges']]);
    batch.discard();
    expect(existsSync(batch.path)).toBe(false);
  });

  it('keeps every line, in arrival order, across the chunks it gathers lines into', async () => {
    const batch = new BatchFile();
    const lines = Array.from({ length: 3_000 }, (_, i) => `{"type":"RECORD","record":{"stream":"charges","data":{"id":"ch_${i}","pad":"${'é'.repeat(i % 700)}"}}}`);
    // Concurrent callers, as streams read at once are: each line is placed before the first wait.
    await Promise.all(lines.map((line, i) => batch.addLine(i % 2 ? Buffer.from(line) : line, 'charges')));
    await batch.seal();
    const written = readFileSync(batch.path, 'utf8');
    expect(Buffer.byteLength(written)).toBeGreaterThan(2 * 1024 * 1024);
    expect(written).toBe(lines.map((line, i) => `{"seq":${i + 1},${line.slice(1)}\n`).join(''));
    batch.discard();
  });

  it('leaves no file for a batch that stays empty', async () => {
    const batch = new BatchFile();
    await batch.seal();
    expect(existsSync(batch.path)).toBe(false);
    batch.discard();
  });

  it('lets a writer waiting for the disk go on when the batch is sealed under it, its line kept', async () => {
    const batch = new BatchFile();
    const big = `{"type":"RECORD","record":{"stream":"customers","data":{"id":"cus_1","pad":"${'x'.repeat(2 * 1024 * 1024)}"}}}`;
    // Larger than a chunk and the stream's buffer: the write has to wait for 'drain', which an ending stream never emits.
    const writing = batch.addLine(big, 'customers').then(() => 'went on');
    await batch.seal();
    const stuck = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1_000));
    expect(await Promise.race([writing, stuck])).toBe('went on');
    expect(readFileSync(batch.path, 'utf8').length).toBe(big.length + '{"seq":1,'.length);
    batch.discard();
  });
});
