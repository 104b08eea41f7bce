// What `load` shows while it runs: a live table on a terminal, log lines otherwise.
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { Progress } from '../../connector/load/progress.js';
import { Terminal, createLogger } from '../../connector/logger.js';
import { screen } from '../terminal-screen.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

function feed(progress: Progress): void {
  progress.setAccounts(3);
  for (let i = 0; i < 5; i++) progress.record('customers');
  for (let i = 0; i < 2; i++) progress.record('charges');
  progress.state('customers', { version: 2, accounts: { acct_a: {}, acct_b: {}, acct_c: { backfill: { from: 0, to: 10, done: [], since: 0 } } } });
  progress.status('customers', 'RUNNING');
  progress.record('accounts');
  progress.state('accounts', { version: 2, accounts: { acct_platform: {} } });
  progress.committed(4);
}

describe('load progress', () => {
  it('on a terminal, redraws a table per stream: records, records per second, accounts done, status', async () => {
    const terminal = capture();
    const progress = new Progress(pino({ level: 'silent' }), new Terminal(terminal.stream));
    progress.start();
    feed(progress);
    await wait(600);
    progress.stop();
    const frames = terminal.text();
    expect(frames).toMatch(/stripe-elt load: 8 records read, 4 committed, \d+\/s, \d+ s/);
    expect(frames).toContain('\n  stream                   records    per s  accounts done  status\n');
    expect(frames).toMatch(/\n {2}customers {14} {8}5 +\d+ {12}2\/3  running\n/);
    expect(frames).toMatch(/\n {2}charges {16} {8}2 +\d+ {12}0\/3  started\n/);
    // The connected accounts are read from the platform alone.
    expect(frames).toMatch(/\n {2}accounts {15} {8}1 +\d+ {12}1\/1  started(\n|$)/);
  });

  it('on a terminal, a log line or a warning written while the table is drawn appears above it, and the table is drawn again below', async () => {
    const out = capture();
    const terminal = new Terminal(out.stream);
    const logger = createLogger({ level: 'info', terminal });
    const progress = new Progress(logger, terminal);
    progress.start();
    feed(progress);
    while (!out.text().includes('stripe-elt load:')) await wait(20);
    logger.info({ records: 8, stream: 'customers' }, 'read finished');
    progress.log('WARN', 'charges of acct_a: the key may not read charges.');
    const table = (lines: string[]) => [lines[0]?.replace(/\d+\/s, \d+ s$/, 'R/s, T s'), ...lines.slice(1).map((line) => line.replace(/ +\d+ +(\d+\/\d+)/, ' R $1'))];
    const shown = screen(out.text());
    expect(shown.slice(0, 2)).toEqual(['read finished (records 8, stream customers)', 'Warning: charges of acct_a: the key may not read charges.']);
    expect(table(shown.slice(2))).toEqual([
      'stripe-elt load: 8 records read, 4 committed, R/s, T s',
      '  stream                   records    per s  accounts done  status',
      '  customers                      5 R 2/3  running',
      '  charges                        2 R 0/3  started',
      '  accounts                       1 R 1/1  started',
    ]);
    // The next redraw replaces the table, below the lines.
    progress.record('charges');
    await wait(600);
    expect(screen(out.text()).slice(0, 3)).toEqual(['read finished (records 8, stream customers)', 'Warning: charges of acct_a: the key may not read charges.', expect.stringMatching(/^stripe-elt load: 9 records read/)]);
    expect(screen(out.text())).toHaveLength(7);
    // Stopped, the table is gone and the lines stay.
    progress.stop();
    expect(screen(out.text())).toEqual(['read finished (records 8, stream customers)', 'Warning: charges of acct_a: the key may not read charges.']);
  });

  it('elsewhere, logs a line every 10 seconds, with the rate over the last 5', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const log = capture();
      const progress = new Progress(pino({ level: 'info' }, log.stream), undefined);
      progress.start();
      feed(progress);
      vi.advanceTimersByTime(9_900);
      expect(log.text()).toBe('');
      vi.advanceTimersByTime(7_100);
      for (let i = 0; i < 50; i++) progress.record('charges');
      vi.advanceTimersByTime(3_000);
      progress.stop();
      await wait(20);
      const lines = log.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.map(({ records, per_second }) => ({ records, per_second }))).toEqual([
        // At 10 s: the records of the start came more than 5 seconds ago.
        { records: 8, per_second: 0 },
        // At 20 s (and at the stop, at once): 50 records at 17 s, in the 5 seconds before: 10 a second.
        { records: 58, per_second: 10 },
        { records: 58, per_second: 10 },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('elsewhere, logs its figures as a line at the end, however short the load', async () => {
    const log = capture();
    const progress = new Progress(pino({ level: 'info' }, log.stream), undefined);
    progress.start();
    feed(progress);
    progress.stop();
    await wait(20);
    const lines = log.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'load progress', records: 8, committed: 4, streams_done: '0/3', accounts: 3 });
  });
});
