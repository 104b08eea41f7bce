// One contract, every warehouse: what a loader promises, run on DuckDB and on BigQuery (through
// the local endpoint that plays its REST API and runs its SQL).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowCounts } from '../../connector/commands/load.js';
import { UserError } from '../../connector/errors.js';
import { WAREHOUSES, byId, commit, customer, state, type TestWarehouse, readRows } from './warehouses.js';

describe.each(WAREHOUSES)('the %s warehouse', (_name, create) => {
  let warehouse: TestWarehouse;
  beforeEach(async () => {
    warehouse = await create();
  });
  afterEach(async () => {
    await warehouse.close();
  });

  it('starts with no mode, no state and no rows', async () => {
    const { loader } = warehouse;
    expect(await loader.mode()).toBeNull();
    expect(await loader.states()).toEqual(new Map());
    expect(await rowCounts(loader.client, loader.names)).toEqual(new Map());
  });

  it('commits records with their state, each object once, with typed columns beside the whole object', async () => {
    const { loader } = warehouse;
    const customerState = state({ acct_1: { events: { cursor: 1_700_000_500, seen: ['evt_1'] } } });
    await commit(loader, [['customers', customer('cus_1', 1_700_000_100)], ['customers', customer('cus_2', 1_700_000_100)], ['charges', { id: 'ch_1', object: 'charge', created: 1_700_000_050, livemode: false, amount: 1200, account_id: 'acct_2', observed_at: 1_700_000_100 }]], { customers: customerState });
    const customers = await readRows(loader, 'customers');
    expect(customers.map((r) => r.id)).toEqual(['cus_1', 'cus_2']);
    expect(customers[0]).toEqual({ account_id: 'acct_1', id: 'cus_1', livemode: false, is_deleted: false, created: 1_700_000_000, observed_at: 1_700_000_100, data: customer('cus_1', 1_700_000_100) });
    expect((await readRows(loader, 'charges'))[0]).toMatchObject({ account_id: 'acct_2', id: 'ch_1', created: 1_700_000_050, data: { amount: 1200 } });
    expect(await loader.states()).toEqual(new Map([['customers', customerState]]));
    expect(await rowCounts(loader.client, loader.names)).toEqual(new Map([['customers', 2], ['charges', 1]]));
    expect(await loader.mode()).toBe('test');
  });

  it('keeps the newest state of an object: an older snapshot arriving later never overwrites it', async () => {
    const { loader } = warehouse;
    await commit(loader, [['customers', customer('cus_1', 200, { email: 'new@example.com' })]]);
    // An old event replayed, and a list page read before it, in a later batch.
    await commit(loader, [['customers', customer('cus_1', 150, { email: 'replayed@example.com' })], ['customers', customer('cus_1', 100, { email: 'old@example.com' })]]);
    expect((await readRows(loader, 'customers'))[0]).toMatchObject({ observed_at: 200, data: { email: 'new@example.com' } });
    // Within one batch the newest wins whatever the order.
    await commit(loader, [['customers', customer('cus_1', 400, { email: 'newest@example.com' })], ['customers', customer('cus_1', 300, { email: 'older@example.com' })]]);
    expect((await readRows(loader, 'customers'))[0]).toMatchObject({ observed_at: 400, data: { email: 'newest@example.com' } });
    // The same time again: the later record replaces the earlier (the same state, read twice).
    await commit(loader, [['customers', customer('cus_1', 400, { email: 'again@example.com' })]]);
    expect((await readRows(loader, 'customers'))[0]?.data.email).toBe('again@example.com');
  });

  it('marks a deleted object deleted, with its last state; a later-arriving older snapshot does not revive it', async () => {
    const { loader } = warehouse;
    await commit(loader, [['customers', customer('cus_1', 100)]]);
    await commit(loader, [['customers', customer('cus_1', 200, { deleted: true, email: 'last@example.com' })]]);
    await commit(loader, [['customers', customer('cus_1', 150)]]);
    const [row] = await readRows(loader, 'customers');
    expect(row).toMatchObject({ is_deleted: true, observed_at: 200, data: { email: 'last@example.com', deleted: true } });
    // At the same second, a deletion wins over a live snapshot.
    await commit(loader, [['customers', customer('cus_2', 300, { deleted: true })]]);
    await commit(loader, [['customers', customer('cus_2', 300)]]);
    expect(byId(await readRows(loader, 'customers')).get('cus_2')?.is_deleted).toBe(true);
  });

  it('keeps the last known state when a deletion carries none (a disconnected account)', async () => {
    const { loader } = warehouse;
    const account = { id: 'acct_9', object: 'account', created: 1_650_000_000, livemode: false, email: 'owner@example.com', account_id: 'acct_1', observed_at: 100 };
    await commit(loader, [['accounts', account]]);
    await commit(loader, [['accounts', { id: 'acct_9', object: 'account', deleted: true, livemode: false, account_id: 'acct_1', observed_at: 200 }]]);
    const [row] = await readRows(loader, 'accounts');
    expect(row).toMatchObject({ is_deleted: true, created: 1_650_000_000, observed_at: 200, data: { email: 'owner@example.com' } });
  });

  it('marks deleted, once, the objects a completed backfill no longer lists', async () => {
    const { loader } = warehouse;
    const base = { created: 1_700_000_000 };
    await commit(loader, [
      ['customers', customer('cus_gone', 100, base)],
      ['customers', customer('cus_kept', 100, base)],
      ['customers', customer('cus_older', 100, { created: 1_600_000_000 })],
      ['customers', { ...customer('cus_other_account', 100, base), account_id: 'acct_2' }],
    ]);
    // A backfill of [1_650_000_000, 1_800_000_000] listed cus_kept again (observed at 1_800_000_000).
    const complete = state({ acct_1: { complete: { from: 1_650_000_000, to: 1_800_000_000, since: 1_800_000_000 }, events: { cursor: 1_800_000_000, seen: [] } } });
    const result = await commit(loader, [['customers', customer('cus_kept', 1_800_000_000, base)]], { customers: complete });
    const rows = byId(await readRows(loader, 'customers'));
    expect(rows.get('cus_gone')?.is_deleted).toBe(true);
    expect(rows.get('cus_kept')?.is_deleted).toBe(false);
    expect(rows.get('cus_older')?.is_deleted).toBe(false);
    expect(rows.get('cus_other_account')?.is_deleted).toBe(false);
    expect(result.swept).toBe(1);
    // The same marker again sweeps nothing: a row loaded since is not touched.
    await commit(loader, [['customers', customer('cus_new', 500, base)]], { customers: complete });
    expect(byId(await readRows(loader, 'customers')).get('cus_new')?.is_deleted).toBe(false);
  });

  it('remembers the webhook events a commit applies, by id, and nothing of a failed commit', async () => {
    const { loader } = warehouse;
    expect(await loader.receivedEvents(['evt_1'])).toEqual(new Set());
    const evt = (id: string) => ({ id, account_id: 'acct_1', type: 'customer.updated', created: 1_700_000_100 });
    await commit(loader, [['customers', customer('cus_1', 1_700_000_100)]], {}, [evt('evt_1'), evt('evt_2')]);
    await commit(loader, [], {}, [evt('evt_2'), evt('evt_3')]);
    const foreign = { id: 'cus_x', object: 'customer', created: 1 };
    await expect(commit(loader, [['customers', foreign]], {}, [evt('evt_4')])).rejects.toThrow(/lack account_id/);
    expect(await loader.receivedEvents(['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5'])).toEqual(new Set(['evt_1', 'evt_2', 'evt_3']));
    expect((await readRows(loader, 'customers')).map((r) => r.id)).toEqual(['cus_1']);
  });

  it("tells when the rows of objects were observed, leaving out those it has no row of", async () => {
    const { loader } = warehouse;
    expect(await loader.observedAt('customers', [{ account_id: 'acct_1', id: 'cus_1' }])).toEqual(new Map());
    await commit(loader, [['customers', customer('cus_1', 1_700_000_100)], ['customers', customer('cus_2', 1_700_000_200)]]);
    const objects = [{ account_id: 'acct_1', id: 'cus_1' }, { account_id: 'acct_1', id: 'cus_2' }, { account_id: 'acct_2', id: 'cus_1' }, { account_id: 'acct_1', id: 'cus_9' }];
    expect(await loader.observedAt('customers', objects)).toEqual(new Map([['acct_1/cus_1', 1_700_000_100], ['acct_1/cus_2', 1_700_000_200]]));
  });

  it('commits nothing of a batch that fails: no rows, no state', async () => {
    const { loader } = warehouse;
    const foreign = { id: 'cus_x', object: 'customer', created: 1 };
    await expect(commit(loader, [['customers', customer('cus_1', 100)], ['customers', foreign]], { customers: state({ acct_1: { created_cursor: 5 } }) })).rejects.toThrow(
      /1 records lack account_id, id or observed_at.*stripe-elt read/,
    );
    expect(await readRows(loader, 'customers')).toEqual([]);
    expect(await loader.states()).toEqual(new Map());
  });

  it('keeps test and live data apart: the other mode is refused, and nothing of it committed', async () => {
    const { loader } = warehouse;
    await commit(loader, [['customers', customer('cus_1', 100)]]);
    const live = { ...customer('cus_live', 100), livemode: true };
    const failure = commit(loader, [['customers', live]], { customers: state() });
    await expect(failure).rejects.toBeInstanceOf(UserError);
    await expect(failure).rejects.toThrow(/holds test-mode data, and these records are live-mode data: test and live data are kept in separate warehouses/);
    expect((await readRows(loader, 'customers')).map((r) => r.id)).toEqual(['cus_1']);
    expect(await loader.states()).toEqual(new Map());
    expect(await loader.mode()).toBe('test');
  });

  it("holds one platform's data: states of another platform are refused, and nothing of their batch committed", async () => {
    const { loader } = warehouse;
    expect(await loader.platform()).toBeNull();
    const ours = { ...state({ acct_1: { created_cursor: 1 } }), platform: 'acct_1' };
    await commit(loader, [['customers', customer('cus_1', 100)]], { customers: ours });
    expect(await loader.platform()).toBe('acct_1');
    const theirs = { ...state({ acct_9: { created_cursor: 5 } }), platform: 'acct_9' };
    const failure = commit(loader, [['customers', { ...customer('cus_9', 100), account_id: 'acct_9' }]], { customers: theirs });
    await expect(failure).rejects.toBeInstanceOf(UserError);
    await expect(failure).rejects.toThrow(/holds the data of the Stripe platform acct_1, and this data is of acct_9: one warehouse holds one platform's data/);
    expect((await readRows(loader, 'customers')).map((r) => r.id)).toEqual(['cus_1']);
    expect(await loader.states()).toEqual(new Map([['customers', ours]]));
  });

  it('a warehouse loaded before platforms were recorded refuses another platform through the states it holds', async () => {
    const { loader } = warehouse;
    // Its states name no platform: acct_1's partitions say whose data it is.
    await commit(loader, [['customers', customer('cus_1', 100)]], { customers: state({ acct_1: { created_cursor: 1 }, acct_2: { created_cursor: 1 } }) });
    expect(await loader.platform()).toBeNull();
    await expect(commit(loader, [], { customers: { ...state({ acct_9: {} }), platform: 'acct_9' } })).rejects.toThrow(/holds another Stripe platform's data \(its states name none of acct_9's accounts\), and this data is of acct_9/);
    // Its own platform is recorded by the next commit.
    await commit(loader, [], { charges: { ...state({ acct_2: {} }), platform: 'acct_2' } });
    expect(await loader.platform()).toBe('acct_2');
  });

  it("resets one stream's data and state, or every stream's (then the mode and the platform are forgotten)", async () => {
    const { loader } = warehouse;
    await commit(loader, [['customers', customer('cus_1', 100)], ['charges', { id: 'ch_1', object: 'charge', created: 1, livemode: false, account_id: 'acct_1', observed_at: 100 }]], {
      customers: { ...state({ acct_1: { created_cursor: 1 } }), platform: 'acct_1' },
      charges: { ...state({ acct_1: { created_cursor: 2 } }), platform: 'acct_1' },
    });
    expect(await loader.platform()).toBe('acct_1');
    await loader.reset(['customers']);
    expect(await readRows(loader, 'customers')).toEqual([]);
    expect([...(await loader.states()).keys()]).toEqual(['charges']);
    expect((await readRows(loader, 'charges')).length).toBe(1);
    await loader.reset('all');
    expect(await rowCounts(loader.client, loader.names)).toEqual(new Map());
    expect(await loader.states()).toEqual(new Map());
    expect(await loader.mode()).toBeNull();
    expect(await loader.platform()).toBeNull();
    await commit(loader, [['customers', { ...customer('cus_live', 100), livemode: true }]]);
    expect(await loader.mode()).toBe('live');
  });
});
