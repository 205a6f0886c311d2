/**
 * Socket.IO fan-out: CLIENTS (1,000) `socket.io-client` connections in a separate process,
 * all subscribed to one topic; the server publishes events on it at a steady rate through
 * `Realtime.publish` (the path every plugin uses, through the Redis adapter) and each client
 * measures the delivery latency. Rates 50 and 500 events/s by default, each for SECONDS.
 *
 *   npm run build && node dist/scripts/with-services.js -- node dist/bench/fanout.js
 *   BENCH_FANOUT_CLIENTS=1000 BENCH_FANOUT_RATES=50,500 BENCH_FANOUT_SECONDS=10 BENCH_RUNS=3
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../core/config/load-config.js';
import { projectRoot } from '../core/paths.js';
import { Realtime } from '../core/realtime/realtime.js';
import { FlowgateServer } from '../core/server.js';
import { median, printTable, recordFigures } from './lib.js';
import { cpuSeconds, loadAverage } from './support/processes.js';

const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1000);
const RATES = (process.env.BENCH_FANOUT_RATES ?? '50,500').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_FANOUT_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Report { histogram: number[]; perEvent: number[] }

const quantile = (histogram: number[], q: number): number => {
  const total = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const [ms, count] of histogram.entries()) {
    seen += count;
    if (seen >= q * total) return ms;
  }
  return histogram.length - 1;
};

async function main(): Promise<void> {
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, NODE_ENV: 'production' },
    overrides: {
      plugins: [{ from: './dist/tests/fixtures/plugins/static-auth/index.js' }, 'hello'], http: { port: 0 }, log: { level: 'error' },
      workflows: { dir: join(projectRoot, 'dist/bench/no-workflows'), watch: false }, scheduler: { enabled: false },
    },
  });
  const server = new FlowgateServer(config);
  await server.start();
  const realtime = server.get(Realtime);
  const clients = fork(join(projectRoot, 'dist/bench/support/fanout-clients.js'), [], { env: { ...process.env, URL: server.url, CLIENTS: String(CLIENTS) } });
  const messages: Array<(m: { kind: string } & Partial<Report>) => void> = [];
  clients.on('message', (m: { kind: string } & Partial<Report>) => messages.shift()?.(m));
  let clientsExited: string | null = null;
  clients.on('exit', (code, signal) => {
    clientsExited = `the client process exited (${code ?? signal}) before reporting`;
    for (const waiting of messages.splice(0)) waiting({ kind: 'exited' });
  });
  const next = () => new Promise<{ kind: string } & Partial<Report>>((resolve, reject) => {
    if (clientsExited) return reject(new Error(clientsExited));
    messages.push((m) => (m.kind === 'exited' ? reject(new Error(clientsExited ?? 'the client process exited')) : resolve(m)));
  });
  const connectStarted = Date.now();
  const ready = await next();
  if (ready.kind !== 'ready') throw new Error('the clients did not subscribe');
  console.error(`${CLIENTS} clients connected and subscribed in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s`);
  const rows: Array<Record<string, string | number>> = [];
  try {
    for (const rate of RATES) {
      const runs: Array<{ p50: number; p99: number; max: number; delivered: number; expected: number; serverCpu: number; clientCpu: number; load: string }> = [];
      for (let run = 0; run < RUNS; run++) {
        const events = rate * SECONDS;
        const cpuBefore = process.cpuUsage();
        const clientCpuBefore = cpuSeconds(clients.pid as number);
        const started = performance.now();
        // Published on a schedule, not in a burst: event n goes out at started + n/rate.
        for (let n = 0; n < events; n++) {
          const due = started + (n * 1000) / rate;
          const wait = due - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          realtime.publish('greetings', 'greeting.created', { n, sentAt: Date.now() });
        }
        await new Promise((r) => setTimeout(r, 2_000)); // the last deliveries
        clients.send({ kind: 'report' });
        const report = await next() as Report & { kind: string };
        const cpu = process.cpuUsage(cpuBefore);
        const delivered = report.histogram.reduce((a, b) => a + b, 0);
        runs.push({
          p50: quantile(report.histogram, 0.5), p99: quantile(report.histogram, 0.99), max: quantile(report.histogram, 1), delivered, expected: events * CLIENTS,
          serverCpu: (cpu.user + cpu.system) / 1e6, clientCpu: cpuSeconds(clients.pid as number) - clientCpuBefore, load: loadAverage(),
        });
        console.error(`${rate}/s run ${run + 1}: p50 ${runs.at(-1)?.p50} ms, p99 ${runs.at(-1)?.p99} ms, ${delivered} of ${events * CLIENTS} delivered, load ${loadAverage()}`);
      }
      const m = (pick: (r: (typeof runs)[number]) => number) => median(runs.map(pick));
      rows.push({
        clients: CLIENTS, 'events/s': rate, 'deliveries/s': rate * CLIENTS, 'p50 ms': m((r) => r.p50), 'p99 ms': m((r) => r.p99), 'runs p99 ms': runs.map((r) => r.p99).join(' '),
        'max ms': m((r) => r.max), 'delivered %': Number(((m((r) => r.delivered) / (rate * SECONDS * CLIENTS)) * 100).toFixed(2)),
        'server CPU %': Math.round((m((r) => r.serverCpu) / SECONDS) * 100), 'clients CPU %': Math.round((m((r) => r.clientCpu) / SECONDS) * 100),
        load: runs.map((r) => r.load.split(' ')[0]).join(' '),
      });
    }
  } finally {
    if (!clientsExited) {
      clients.send({ kind: 'stop' });
      await new Promise((r) => clients.once('exit', r));
    }
    await server.stop();
  }
  printTable(`Socket.IO fan-out: ${CLIENTS} subscribed socket.io-client connections, ${SECONDS} s per run, median of ${RUNS} runs (target p99 < 100 ms at 500 events/s)`, rows);
  recordFigures('fanout', rows.map((r) => ({ figure: `${r.clients} clients @${r['events/s']} events/s: delivery p99 ms`, value: r['p99 ms'] as number, detail: `p50 ${r['p50 ms']} ms, delivered ${r['delivered %']}%, load ${r.load}` })));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
