// What a read estimates as it goes (EndpointLoad): how many slices an endpoint needs, and what
// another stream of the account tells of a range not yet read.
import { describe, expect, it } from 'vitest';
import { EndpointLoad } from '../../connector/sync/context.js';

const DAY = 86_400;
/** Midnight UTC, so that each day of the test is a day of the estimates. */
const NOW = 20_833 * DAY;

/** `perDay` objects a day at noon, over the `days` days before `to`, as one stream's pages. */
function read(load: EndpointLoad, stream: string, perDay: number, days: number, to = NOW): void {
  for (let day = 1; day <= days; day++) {
    const noon = to - day * DAY + DAY / 2;
    load.sawPage('acct_1', stream, Array.from({ length: perDay }, () => noon), to - day * DAY, to - (day - 1) * DAY - 1);
  }
}

describe('EndpointLoad', () => {
  it("asks for as many slices of an endpoint as its rate times a page's time, and half again", () => {
    const load = new EndpointLoad();
    for (let i = 0; i < 100; i++) load.sawCycle(100);
    // 24 a second × 0.1 s × 1.5 = 3.6: four slices.
    expect(load.missingSlices('GET /v1/charges', 24)).toBe(4);
    load.sliceStarted('GET /v1/charges');
    load.sliceStarted('GET /v1/charges');
    load.sliceStarted('GET /v1/customers');
    expect(load.missingSlices('GET /v1/charges', 24)).toBe(2);
    for (let i = 0; i < 100; i++) load.sawCycle(400);
    expect(load.missingSlices('GET /v1/charges', 24)).toBe(13);
    // Never fewer than two: a slice waits for its page while the other's records are printed.
    expect(new EndpointLoad().missingSlices('GET /v1/charges', 1)).toBe(2);
  });

  it('estimates a range from another stream of the account that has read it, in the ratio of the two where both have read', () => {
    const load = new EndpointLoad();
    // Charges: read back 60 days, 10 a day in the last 20 and 40 a day before (a busy season).
    read(load, 'charges', 10, 20);
    read(load, 'charges', 40, 40, NOW - 20 * DAY);
    // Events: 30 a day over the last 10 days, three to a charge.
    read(load, 'events', 30, 10);
    const estimate = load.objectsLikeOtherStreams('acct_1', 'events', 300, NOW - 10 * DAY, NOW - 1, NOW - 30 * DAY, NOW - 10 * DAY - 1);
    // Charges there: 10 days × 10 + 10 days × 40 = 500; events three times that.
    expect(estimate).toBeCloseTo(1500, 6);
  });

  it('has no estimate from a stream that has not read all of the range, or too little where both have read', () => {
    const load = new EndpointLoad();
    read(load, 'charges', 10, 20);
    read(load, 'events', 30, 10);
    expect(load.objectsLikeOtherStreams('acct_1', 'events', 300, NOW - 10 * DAY, NOW - 1, NOW - 30 * DAY, NOW - 10 * DAY - 1)).toBeUndefined();
    // 9 charges a day over the 10 days both have read: under a page of evidence.
    const sparse = new EndpointLoad();
    read(sparse, 'charges', 9, 40);
    read(sparse, 'events', 30, 10);
    expect(sparse.objectsLikeOtherStreams('acct_1', 'events', 300, NOW - 10 * DAY, NOW - 1, NOW - 30 * DAY, NOW - 10 * DAY - 1)).toBeUndefined();
    // Another account's charges say nothing of this one.
    expect(load.objectsLikeOtherStreams('acct_2', 'events', 300, NOW - 10 * DAY, NOW - 1, NOW - 30 * DAY, NOW - 10 * DAY - 1)).toBeUndefined();
  });
});
