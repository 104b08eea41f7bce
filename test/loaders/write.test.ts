// `write` into each warehouse: RECORD lines go to the batch unparsed, so a broken one is found by
// the warehouse as it reads the batch; it is still reported by its line of the input, as every
// other bad line is, and nothing after the last committed STATE is written.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { write } from '../../connector/commands/write.js';
import type { AirbyteMessage } from '../../connector/protocol/messages.js';
import { ProtocolWriter } from '../../connector/protocol/writer.js';
import { WAREHOUSES, customer, record, state, readRows } from './warehouses.js';

function stateLine(stream: string, value: unknown): string {
  return JSON.stringify({ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: stream }, stream_state: value } } });
}

describe.each(WAREHOUSES)('write into the %s warehouse', (_name, create) => {
  it('fed a RECORD line that is not JSON, names its line of the input, and writes nothing after the last committed STATE', async () => {
    const warehouse = await create();
    try {
      const committed = state({ acct_1: { events: { cursor: 100, seen: [] } } });
      // A record cut short by a source that died, followed by the next message.
      const broken = record('customers', customer('cus_4', 100)).slice(0, 80);
      const lines = [
        record('customers', customer('cus_1', 100)),
        record('customers', customer('cus_2', 100)),
        stateLine('customers', committed),
        record('customers', customer('cus_3', 100)),
        broken,
        record('customers', customer('cus_5', 100)),
        stateLine('customers', state({ acct_1: { events: { cursor: 200, seen: [] } } })),
      ];
      const reason = (() => {
        try {
          JSON.parse(broken);
        } catch (error) {
          return (error as Error).message;
        }
        throw new Error('the broken line parses');
      })();
      const echoed: AirbyteMessage[] = [];
      const echo = new ProtocolWriter({ write: async (message) => void echoed.push(message), flush: async () => {} });
      await expect(write(Readable.from([Buffer.from(`${lines.join('\n')}\n`)]), warehouse.loader, echo, { batchRecords: 2 })).rejects.toThrow(
        `Line 5 of the input is not an Airbyte message (${reason}); nothing after the last committed STATE was written.`,
      );
      expect(echoed.map((message) => JSON.stringify(message))).toEqual([lines[2]]);
      expect((await readRows(warehouse.loader, 'customers')).map((row) => row.id)).toEqual(['cus_1', 'cus_2']);
      expect(await warehouse.loader.states()).toEqual(new Map([['customers', committed]]));
    } finally {
      await warehouse.close();
    }
  });
});
