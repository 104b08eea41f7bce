// The stream state's format: the current version parsed as it is, version 1 upgraded (what its
// records meant), a newer version refused with what to do, and whose platform a state is.
import { describe, expect, it } from 'vitest';
import { clipBelow } from '../../connector/sync/intervals.js';
import { parseStreamState, stateBelongsTo } from '../../connector/sync/state.js';

describe('parsing a stream state', () => {
  it('upgrades version 1: a backfill and a complete marker were observed from their end on, and an events stream began where its last complete backfill did', () => {
    const v1 = {
      version: 1,
      accounts: {
        acct_p: { events: { cursor: 500, seen: ['evt_1'] }, complete: { from: 100, to: 400 } },
        acct_c: { backfill: { from: 100, to: 450, done: [[300, 450]] }, events: { cursor: 450, seen: [] } },
      },
    };
    const parsed = parseStreamState(v1, 'customers');
    expect(parsed).toEqual({
      ok: true,
      state: {
        version: 2,
        accounts: {
          acct_p: { history_from: 100, events: { cursor: 500, seen: ['evt_1'] }, complete: { from: 100, to: 400, since: 400 } },
          acct_c: { history_from: 100, backfill: { from: 100, to: 450, done: [[300, 450]], since: 450 }, events: { cursor: 450, seen: [] } },
        },
      },
    });
  });

  it("does not take a created-based stream's last re-read for where its data begins", () => {
    const parsed = parseStreamState({ version: 1, accounts: { acct_p: { created_cursor: 900, complete: { from: 800, to: 900 } } } }, 'balance_transactions');
    expect(parsed.ok && parsed.state.accounts.acct_p).toEqual({ created_cursor: 900, complete: { from: 800, to: 900, since: 900 } });
  });

  it('reads the current version as it is, and refuses a newer one or a foreign one saying why', () => {
    const v2 = { version: 2, platform: 'acct_p', accounts: { acct_p: { created_cursor: 9, oldest_pending: 3 } } };
    expect(parseStreamState(v2)).toEqual({ ok: true, state: v2 });
    expect(parseStreamState({ version: 3, accounts: {} })).toEqual({ ok: false, problem: 'it is version 3, written by a newer stripe-elt (this one reads versions 1 to 2); upgrade stripe-elt' });
    expect(parseStreamState({ cursor: 5 })).toMatchObject({ ok: false });
  });
});

describe("a state's platform", () => {
  it('is the one it names, or, for a state of version 1, the one among its accounts', () => {
    expect(stateBelongsTo({ version: 2, platform: 'acct_p', accounts: {} }, 'acct_p')).toBe(true);
    expect(stateBelongsTo({ version: 2, platform: 'acct_p', accounts: {} }, 'acct_q')).toBe(false);
    expect(stateBelongsTo({ version: 2, accounts: { acct_p: {}, acct_c: {} } }, 'acct_p')).toBe(true);
    expect(stateBelongsTo({ version: 2, accounts: { acct_p: {}, acct_c: {} } }, 'acct_q')).toBe(false);
    expect(stateBelongsTo({ version: 2, accounts: {} }, 'acct_q')).toBe(true);
  });
});

describe('interval sets clipped', () => {
  it('keep only what lies below a limit, which a resumed backfill need not read again', () => {
    expect(clipBelow([[0, 9], [20, 29], [40, 49]], 25)).toEqual([[0, 9], [20, 24]]);
    expect(clipBelow([[0, 9]], 0)).toEqual([]);
    expect(clipBelow([[0, 9]], 100)).toEqual([[0, 9]]);
  });
});
