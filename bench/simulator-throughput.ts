// Measures the simulator's speed: list requests per second, 100 objects a page, no latency and
// no rate limits, over keep-alive connections from a second process. Cold: every page read once
// (each object rendered afresh); warm: pages read again. Prints one JSON line.
//   npx tsx bench/simulator-throughput.ts [--objects N] [--seconds S] [--connections C]
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

const argv = yargs(hideBin(process.argv))
  .options({
    objects: { type: 'number', default: 200_000 },
    accounts: { type: 'number', default: 10 },
    seconds: { type: 'number', default: 10 },
    connections: { type: 'number', default: 16 },
  })
  .strict()
  .parseSync();

const STREAMS = ['customers', 'charges', 'payment_intents', 'invoices', 'subscriptions', 'balance_transactions', 'payouts', 'refunds'];

const child = spawn(
  process.execPath,
  [...(process.env.SIM_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.SIM_PROF] : []), '--import', 'tsx', 'test/simulator/main.ts', '--port', '0', '--now', '2026-11-01', '--objects', String(argv.objects), '--accounts', String(argv.accounts), '--rate-test', '0', '--rate-endpoint', '0'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
process.on('exit', () => child.kill('SIGTERM'));
const lines = createInterface({ input: child.stdout });
const [first] = (await once(lines, 'line')) as [string];
const url = new URL(first.replace('listening on ', ''));
const agent = new Agent({ keepAlive: true, maxSockets: argv.connections });
const headers = { Authorization: 'Bearer sk_test_simulator', 'Stripe-Version': '2026-10-28.endive' };

function get(path: string, keepBody = false, account?: string): Promise<{ status: number; bytes: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, agent, headers: account ? { ...headers, 'Stripe-Account': account } : headers }, (res) => {
      let bytes = 0;
      const keep: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keepBody) keep.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, body: keep.length ? Buffer.concat(keep).toString() : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Cold: every page of every stream of every account, read once, each object rendered afresh.
interface Info {
  cpu_seconds: number;
  modes: { test: { platform: string; connected_accounts: { id: string }[] } };
}
const serverInfo = async () => JSON.parse((await get('/_sim/info', true)).body ?? '{}') as Info;
const info = await serverInfo();
const accountIds = [info.modes.test.platform, ...info.modes.test.connected_accounts.map((a) => a.id)];
const walks = accountIds.flatMap((account) => STREAMS.map((stream) => ({ account, stream })));
const cursors: string[] = [];
let coldPages = 0;
const coldStarted = performance.now();
async function walker(): Promise<void> {
  for (let walk = walks.pop(); walk; walk = walks.pop()) {
    let after = '';
    for (;;) {
      const path = `/v1/${walk.stream}?limit=100${after}`;
      const r = await get(path, true, walk.account);
      coldPages++;
      const data = JSON.parse(r.body ?? '{}') as { data: { id: string }[]; has_more: boolean };
      const last = data.data[data.data.length - 1];
      if (walk.account === accountIds[0] && cursors.length < 400) cursors.push(path);
      if (!last || !data.has_more) break;
      after = `&starting_after=${last.id}`;
    }
  }
}
await Promise.all(Array.from({ length: argv.connections }, () => walker()));
const coldSeconds = (performance.now() - coldStarted) / 1000;
// The server's own CPU time for the cold pass: its capacity whatever the client costs.
const coldCpu = (await serverInfo()).cpu_seconds - info.cpu_seconds;
const warmStartCpu = (await serverInfo()).cpu_seconds;

// Warm: pages read again, from the simulator's kept renderings.
let requests = 0;
let bytes = 0;
let failures = 0;
const deadline = performance.now() + argv.seconds * 1000;
const started = performance.now();
async function worker(offset: number): Promise<void> {
  for (let i = offset; performance.now() < deadline; i += argv.connections) {
    const r = await get(cursors[i % cursors.length] as string);
    if (r.status === 200) requests++;
    else failures++;
    bytes += r.bytes;
  }
}
await Promise.all(Array.from({ length: argv.connections }, (_, i) => worker(i)));
const elapsed = (performance.now() - started) / 1000;
const warmCpu = (await serverInfo()).cpu_seconds - warmStartCpu;
child.kill('SIGTERM');
agent.destroy();
console.log(JSON.stringify({
  objects: argv.objects,
  connections: argv.connections,
  cold_pages: coldPages,
  cold_list_requests_per_second: Math.round(coldPages / coldSeconds),
  cold_pages_per_server_cpu_second: Math.round(coldPages / coldCpu),
  warm_seconds: Number(elapsed.toFixed(2)),
  list_requests_per_second: Math.round(requests / elapsed),
  warm_pages_per_server_cpu_second: Math.round(requests / warmCpu),
  objects_per_second: Math.round((requests * 100) / elapsed),
  megabytes_per_second: Number((bytes / elapsed / 1e6).toFixed(1)),
  mean_page_kb: Number((bytes / Math.max(1, requests) / 1024).toFixed(1)),
  failures,
}));
