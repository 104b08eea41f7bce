// What `load` shows while it runs: a live table on a terminal, log lines otherwise.
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Progress } from '../../connector/load/progress.js';

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
  progress.state('customers', { version: 1, accounts: { acct_a: {}, acct_b: {}, acct_c: { backfill: { from: 0, to: 10, done: [] } } } });
  progress.status('customers', 'RUNNING');
  progress.record('accounts');
  progress.state('accounts', { version: 1, accounts: { acct_platform: {} } });
  progress.committed(4);
}

describe('load progress', () => {
  it('on a terminal, redraws a table per stream: records, records per second, accounts done, status', async () => {
    const terminal = capture();
    const progress = new Progress(pino({ level: 'silent' }), terminal.stream);
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
