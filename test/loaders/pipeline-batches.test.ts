// When a batch commits: at the first STATE once it holds enough records, or enough bytes of them
// (what DuckDB holds while committing grows with the bytes), or is old enough.
import { describe, expect, it } from 'vitest';
import { LoadPipeline } from '../../connector/load/pipeline.js';
import type { AirbyteMessage, StreamStateMessage } from '../../connector/protocol/messages.js';
import { customer, duckdbWarehouse, readRows, record, state } from './warehouses.js';

function stateMessage(cursor: number): StreamStateMessage {
  return { type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'customers' }, stream_state: state({ acct_1: { events: { cursor, seen: [] } } }) } } } as StreamStateMessage;
}

/** Customers of about `size` bytes each, a STATE after each; the cursors of the states each commit carried. */
async function commitsOf(options: { batchRecords: number; batchBytes: number }, sizes: readonly number[]): Promise<{ groups: number[][]; ids: string[] }> {
  const warehouse = await duckdbWarehouse();
  try {
    const groups: number[][] = [];
    const pipeline = new LoadPipeline(warehouse.loader, {
      ...options,
      onCommitted: async (states) => void groups.push(states.map((s) => (s.state.stream.stream_state as { accounts: { acct_1: { events: { cursor: number } } } }).accounts.acct_1.events.cursor)),
    });
    for (const [i, size] of sizes.entries()) {
      await pipeline.write(JSON.parse(record('customers', customer(`cus_${i + 1}`, 100, { description: 'x'.repeat(size) }))) as AirbyteMessage);
      await pipeline.write(stateMessage(i + 1));
    }
    await pipeline.flush();
    return { groups, ids: (await readRows(warehouse.loader, 'customers')).map((row) => row.id).sort() };
  } finally {
    await warehouse.close();
  }
}

describe('a load commits its batches', () => {
  it('at the first STATE once the records reach the byte bound, however few they are', async () => {
    // Each record's line is ~1,200 bytes: the third passes 3,000 bytes.
    const { groups, ids } = await commitsOf({ batchRecords: 1000, batchBytes: 3000 }, [1000, 1000, 1000, 1000, 1000, 1000, 1000]);
    expect(groups).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(ids).toEqual(['cus_1', 'cus_2', 'cus_3', 'cus_4', 'cus_5', 'cus_6', 'cus_7']);
  });

  it('one large record is a batch of its own; small ones wait for the record bound', async () => {
    const { groups } = await commitsOf({ batchRecords: 3, batchBytes: 20_000 }, [10, 10, 30_000, 10, 10, 10, 10]);
    expect(groups).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    const large = await commitsOf({ batchRecords: 3, batchBytes: 20_000 }, [10, 30_000, 10, 10, 10]);
    expect(large.groups).toEqual([[1, 2], [3, 4, 5]]);
  });
});
