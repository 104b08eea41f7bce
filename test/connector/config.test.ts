// The source configuration's start_date: a day on the calendar, not later than now, or a message
// that says what is wrong and what a good value looks like.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../connector/config.js';

function startDate(value: string): number | undefined {
  return resolveConfig({ api_key: 'rk_test_x1', start_date: value }, 'config.json', {}).startDate;
}

function refusal(value: string): string {
  try {
    startDate(value);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`start_date ${value} was accepted`);
}

/** YYYY-MM-DD of a moment. */
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('start_date', () => {
  it('a day that is on the calendar, leap days included, is midnight UTC of that day', () => {
    expect(startDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29) / 1000);
    expect(startDate('2023-12-31')).toBe(Date.UTC(2023, 11, 31) / 1000);
    expect(startDate('2024-02-29T23:59:59Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59) / 1000);
    expect(startDate('2024-03-01T02:00:00+02:00')).toBe(Date.UTC(2024, 2, 1) / 1000);
  });

  it('a day the month does not have is refused, naming the days the month has', () => {
    expect(refusal('2024-02-30')).toBe('config.json is not a valid configuration: start_date: 2024-02-30 is not a day on the calendar (February 2024 has 29 days); give a date as YYYY-MM-DD, such as 2024-02-29.');
    expect(refusal('2023-02-29')).toBe('config.json is not a valid configuration: start_date: 2023-02-29 is not a day on the calendar (February 2023 has 28 days); give a date as YYYY-MM-DD, such as 2023-02-28.');
    expect(refusal('2023-04-31T00:00:00Z')).toContain('start_date: 2023-04-31T00:00:00Z is not a day on the calendar (April 2023 has 30 days)');
    expect(refusal('2023-01-00')).toContain('start_date: 2023-01-00 is not a day on the calendar (January 2023 has 31 days)');
  });

  it('a month that does not exist is refused', () => {
    expect(refusal('2023-13-01')).toBe('config.json is not a valid configuration: start_date: 2023-13-01 has no month 13 (months are 01 to 12); give a date as YYYY-MM-DD, such as 2023-12-01.');
    expect(refusal('2023-00-10')).toContain('start_date: 2023-00-10 has no month 00 (months are 01 to 12)');
  });

  it('a time of day or a zone that does not exist is refused', () => {
    expect(refusal('2024-01-01T24:00:00Z')).toContain('start_date: 2024-01-01T24:00:00Z is not a time of day (hours are 00 to 23, minutes and seconds 00 to 59); give a date-time such as 2024-01-01T00:00:00Z.');
    expect(refusal('2024-01-01T10:60')).toContain('start_date: 2024-01-01T10:60 is not a time of day');
    expect(refusal('2024-01-01T10:00:00+24:00')).toContain('start_date: 2024-01-01T10:00:00+24:00 is not a time of day');
  });

  it('a date later than now (the machine clock) is refused, a date-time too, with a good value', () => {
    const now = Date.now();
    const yearAgo = day(now - 365 * 86_400_000);
    const tomorrow = day(now + 86_400_000);
    const message = refusal(tomorrow);
    expect(message).toMatch(
      new RegExp(`^config\\.json is not a valid configuration: start_date: ${tomorrow} is in the future \\(it is now \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\); give a past date such as ${yearAgo}, or leave start_date out to read the 12 months before the first sync\\.$`),
    );
    const inAnHour = new Date(now + 3_600_000).toISOString().slice(0, 19);
    expect(refusal(`${inAnHour}Z`)).toContain(`start_date: ${inAnHour}Z is in the future`);
    expect(refusal(inAnHour)).toContain(`start_date: ${inAnHour} is in the future`);
    // A minute ago is the past.
    expect(startDate(new Date(now - 60_000).toISOString())).toBe(Math.floor((now - 60_000) / 1000));
  });
});
