// The batch file: its lines, and a writer waiting for the disk when the batch goes to commit.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatchFile } from '../../connector/loaders/batch.js';

describe('BatchFile', () => {
  it('writes each RECORD line with its arrival order in front, and counts per stream', async () => {
    const batch = new BatchFile();
    await batch.addLine('{"type":"RECORD","record":{"stream":"customers","data":{"id":"cus_1"}}}', 'customers', false);
    await batch.addLine(Buffer.from('{"type":"RECORD","record":{"stream":"charges","data":{"id":"ch_1"}}}'), 'charges', undefined, 7);
    await batch.seal();
    expect(readFileSync(batch.path, 'utf8')).toBe(
      '{"seq":1,"type":"RECORD","record":{"stream":"customers","data":{"id":"cus_1"}}}\n{"seq":2,"type":"RECORD","record":{"stream":"charges","data":{"id":"ch_1"}}}\n',
    );
    expect([batch.records, batch.countOf('customers'), batch.countOf('charges'), batch.countOf('payouts')]).toEqual([2, 1, 1, 0]);
    expect([...batch.modes]).toEqual([false]);
    expect(batch.origins).toEqual([7]);
    batch.discard();
  });

  it('lets a writer waiting for the disk go on when the batch is sealed under it, its line kept', async () => {
    const batch = new BatchFile();
    const big = `{"type":"RECORD","record":{"stream":"customers","data":{"id":"cus_1","pad":"${'x'.repeat(64 * 1024)}"}}}`;
    let waited = false;
    // Larger than the stream's buffer: the write has to wait for 'drain', which an ending stream never emits.
    const writing = batch.addLine(big, 'customers', false).then(() => (waited = true));
    await batch.seal();
    await writing;
    expect(waited).toBe(true);
    expect(readFileSync(batch.path, 'utf8').length).toBe(big.length + '{"seq":1,'.length);
    batch.discard();
  });
});
