/**
 * Socket.IO fan-out: CLIENTS (1,000) `socket.io-client` connections, spread over GENERATORS
 * (2) load-generator processes, all subscribed to one topic; the server, in this process,
 * publishes events on it at a steady rate through `Realtime.publish` (the path every plugin
 * uses, through the Redis adapter) and each client measures the delivery latency. Each rate
 * runs BENCH_RUNS times for SECONDS; the table gives medians.
 *
 *   npm run build && node dist/scripts/with-services.js -- node dist/bench/fanout.js
 *   BENCH_FANOUT_CLIENTS=1000 BENCH_FANOUT_GENERATORS=2 BENCH_FANOUT_RATES=25,50,100,200,500
 *   BENCH_FANOUT_SECONDS=10 BENCH_RUNS=3 BENCH_FANOUT_PROFILE=/tmp/fanout-prof (CPU profiles)
 *   BENCH_FANOUT_FLUSH_MS=0 (realtime.flushIntervalMs for the run)
 *
 * Every run is bounded: publishing stops at 3 × SECONDS even when the server falls behind its
 * schedule (the table then shows the rate it reached), and the wait for the last deliveries
 * ends after 3 s without progress. Deliveries that never arrived count as lost and as slower
 * than any delivered one in the percentiles; clients the server disconnected (its slow-client
 * guard) are counted and connected again before the next run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { loadConfig } from '../core/config/load-config.js';
import { projectRoot } from '../core/paths.js';
import { Realtime } from '../core/realtime/realtime.js';
import { FlowgateServer } from '../core/server.js';
import { median, printTable, recordFigures } from './lib.js';
import { summariseCpuProfile } from './support/cpu-profile.js';
import { cpuSeconds, loadAverage, memoryMb } from './support/processes.js';

const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1000);
const GENERATORS = Math.max(1, Number(process.env.BENCH_FANOUT_GENERATORS ?? 2));
const RATES = (process.env.BENCH_FANOUT_RATES ?? '25,50,100,200,500').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_FANOUT_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROFILE_DIR = process.env.BENCH_FANOUT_PROFILE;
/** `realtime.flushIntervalMs` for this run (the configured default unless set). */
const FLUSH_MS = process.env.BENCH_FANOUT_FLUSH_MS;
const TARGET_P99_MS = 100;
/** Latencies at or past the histogram's last bucket, and lost deliveries, rank here. */
const BEYOND_MS = 10_000;

interface Report { kind: 'report'; histogram: number[]; perEvent: Array<[number, number]>; disconnected: number }
type Message = { kind: string; delivered?: number; replaced?: number } | Report;

/** A load-generator process and its request/answer channel (answers come in request order). */
class Generator {
  private readonly waiting: Array<{ resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  private exited: string | null = null;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Message) => this.waiting.shift()?.resolve(m));
    child.on('exit', (code, signal) => {
      this.exited = `a client process exited (${code ?? signal})`;
      for (const w of this.waiting.splice(0)) w.reject(new Error(this.exited));
    });
  }

  get alive(): boolean { return !this.exited; }

  /** The next message; `kind` (if given) is sent first. */
  ask<T extends Message>(kind?: string): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const answer = new Promise<T>((resolve, reject) => this.waiting.push({ resolve: resolve as (m: Message) => void, reject }));
    if (kind) this.child.send({ kind });
    return answer;
  }

  cpuSeconds(): number { return cpuSeconds(this.child.pid as number); }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ kind: 'stop' });
    await exited;
  }
}

/** The latency below which `q` of the `expected` deliveries arrived (lost ones rank last). */
const quantile = (histogram: number[], expected: number, q: number): number => {
  let seen = 0;
  for (const [ms, count] of histogram.entries()) {
    seen += count;
    if (seen >= q * expected) return ms;
  }
  return BEYOND_MS;
};
const ms = (value: number) => (value >= BEYOND_MS ? '≥10000' : value);

interface Run {
  publishedPerSecond: number; p50: number; p99: number; max: number; expected: number; lost: number; duplicated: number;
  disconnected: number; serverCpu: number; serverRssMb: number; clientsCpu: number; serverUsPerDelivery: number; clientsUsPerDelivery: number; load: string;
}

async function main(): Promise<void> {
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, NODE_ENV: 'production' },
    overrides: {
      plugins: [{ from: './dist/tests/fixtures/plugins/static-auth/index.js' }, 'hello'], http: { port: 0 }, log: { level: 'error' },
      workflows: { dir: join(projectRoot, 'dist/bench/no-workflows'), watch: false }, scheduler: { enabled: false },
      ...(FLUSH_MS === undefined ? {} : { realtime: { flushIntervalMs: Number(FLUSH_MS) } }),
    },
  });
  const server = new FlowgateServer(config);
  await server.start();
  const realtime = server.get(Realtime);
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  const generators = Array.from({ length: GENERATORS }, (_, g) => {
    const share = Math.floor(CLIENTS / GENERATORS) + (g < CLIENTS % GENERATORS ? 1 : 0);
    return new Generator(fork(join(projectRoot, 'dist/bench/support/fanout-clients.js'), [], {
      env: { ...process.env, URL: server.url, CLIENTS: String(share) },
      execArgv: PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `generator-${g}.cpuprofile`] : [],
    }));
  });
  const all = <T extends Message>(kind?: string) => Promise.all(generators.map((g) => g.ask<T>(kind)));
  const profiler = PROFILE_DIR ? new Session() : null;
  profiler?.connect();
  const connectStarted = Date.now();
  const rows: Array<Record<string, string | number>> = [];
  const figures: Array<{ rate: number; p99: number; detail: string }> = [];
  try {
    await all();
    console.error(`${CLIENTS} clients in ${GENERATORS} processes connected and subscribed in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s`);
    for (const rate of RATES) {
      const runs: Run[] = [];
      for (let run = 0; run < RUNS; run++) {
        const replaced = (await all<{ kind: string; replaced?: number }>('reconnect')).reduce((sum, m) => sum + (m.replaced ?? 0), 0);
        if (replaced) console.error(`  ${replaced} clients the server had disconnected are connected again`);
        const profiling = profiler && run === 0;
        if (profiling) {
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.start');
        }
        const events = rate * SECONDS;
        const cpuBefore = process.cpuUsage();
        const clientsCpuBefore = generators.reduce((sum, g) => sum + g.cpuSeconds(), 0);
        let serverRssMb = 0;
        const sampler = setInterval(() => { serverRssMb = Math.max(serverRssMb, memoryMb(process.pid).rss); }, 250);
        const started = performance.now();
        const stopPublishingAt = started + SECONDS * 3_000;
        let published = 0;
        // Open loop, as events arriving from outside: event n is due at started + n/rate, and each
        // turn of the event loop publishes every event that is due by then (several when the
        // server is behind), then yields. Its `sentAt` is when it was due, so a server that
        // falls behind is charged for the wait.
        const epoch = Date.now() - performance.now();
        while (published < events && performance.now() < stopPublishingAt) {
          const due = Math.min(events, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
          for (; published < due; published++) {
            realtime.publish('greetings', 'greeting.created', { n: published, sentAt: Math.round(epoch + started + (published * 1000) / rate) });
          }
          const wait = started + (published * 1000) / rate - performance.now();
          await new Promise((r) => (wait > 1 ? setTimeout(r, wait) : setImmediate(r)));
        }
        const publishSeconds = (performance.now() - started) / 1000;
        // The last deliveries: wait until all arrived or nothing arrived for 3 s.
        let arrived = 0;
        let lastProgress = Date.now();
        while (arrived < published * CLIENTS && Date.now() - lastProgress < 3_000) {
          await new Promise((r) => setTimeout(r, 200));
          const now = (await all<{ kind: string; delivered: number }>('count')).reduce((sum, m) => sum + m.delivered, 0);
          if (now > arrived) lastProgress = Date.now();
          arrived = now;
        }
        const windowSeconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        const clientsCpu = generators.reduce((sum, g) => sum + g.cpuSeconds(), 0) - clientsCpuBefore;
        clearInterval(sampler);
        if (profiling && PROFILE_DIR) {
          const { profile } = await profiler.post('Profiler.stop');
          const file = join(PROFILE_DIR, `server-${rate}.cpuprofile`);
          writeFileSync(file, JSON.stringify(profile));
          printTable(`Server CPU profile at ${rate} events/s (run 1; ${file})`, summariseCpuProfile(file, 12));
        }
        const reports = await all<Report>('report');
        const histogram = new Array<number>(BEYOND_MS + 1).fill(0);
        const perEvent = new Map<number, number>();
        for (const report of reports) {
          report.histogram.forEach((count, ms) => { histogram[ms] = (histogram[ms] ?? 0) + count; });
          for (const [n, count] of report.perEvent) perEvent.set(n, (perEvent.get(n) ?? 0) + count);
        }
        const expected = published * CLIENTS;
        let lost = 0;
        let duplicated = 0;
        for (let n = 0; n < published; n++) {
          const count = perEvent.get(n) ?? 0;
          lost += Math.max(0, CLIENTS - count);
          duplicated += Math.max(0, count - CLIENTS);
        }
        const last = histogram.findLastIndex((count) => count > 0);
        runs.push({
          publishedPerSecond: published / publishSeconds, p50: quantile(histogram, expected, 0.5), p99: quantile(histogram, expected, 0.99),
          max: lost ? BEYOND_MS : Math.max(0, last), expected, lost, duplicated, disconnected: reports.reduce((sum, r) => sum + r.disconnected, 0),
          serverCpu: (cpu.user + cpu.system) / 1e6 / windowSeconds, serverRssMb, clientsCpu: clientsCpu / windowSeconds, load: loadAverage(),
          // CPU time per delivery: what each side costs, whatever else the machine was doing.
          serverUsPerDelivery: (cpu.user + cpu.system) / Math.max(1, expected - lost), clientsUsPerDelivery: (clientsCpu * 1e6) / Math.max(1, expected - lost),
        });
        const r = runs.at(-1) as Run;
        console.error(`${rate}/s run ${run + 1}: published ${r.publishedPerSecond.toFixed(0)}/s, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, lost ${lost} of ${expected}, `
          + `${r.disconnected} clients disconnected, server CPU ${(r.serverCpu * 100).toFixed(0)}%, clients CPU ${(r.clientsCpu * 100).toFixed(0)}%, load ${r.load}`);
      }
      const m = (pick: (r: Run) => number) => median(runs.map(pick));
      rows.push({
        clients: CLIENTS, generators: GENERATORS, 'events/s': rate, 'published/s': Math.round(m((r) => r.publishedPerSecond)), 'deliveries/s': rate * CLIENTS,
        'p50 ms': ms(m((r) => r.p50)), 'p99 ms': ms(m((r) => r.p99)), 'runs p99 ms': runs.map((r) => ms(r.p99)).join(' '), 'max ms': ms(m((r) => r.max)),
        'lost %': Number(((m((r) => r.lost / r.expected)) * 100).toFixed(2)), 'dup': m((r) => r.duplicated), 'dropped clients': m((r) => r.disconnected),
        'server CPU %': Math.round(m((r) => r.serverCpu) * 100), 'server RSS MB': Math.round(m((r) => r.serverRssMb)),
        'clients CPU %': Math.round(m((r) => r.clientsCpu) * 100),
        'server µs/delivery': Number(m((r) => r.serverUsPerDelivery).toFixed(1)), 'clients µs/delivery': Number(m((r) => r.clientsUsPerDelivery).toFixed(1)), load: runs.map((r) => r.load.split(' ')[0]).join(' '),
      });
      figures.push({ rate, p99: m((r) => r.p99), detail: `p50 ${ms(m((r) => r.p50))} ms, lost ${rows.at(-1)?.['lost %']}%, load ${rows.at(-1)?.load}` });
    }
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    profiler?.disconnect();
    await server.stop();
  }
  printTable(`Socket.IO fan-out: ${CLIENTS} subscribed socket.io-client connections in ${GENERATORS} client processes, flushIntervalMs ${config.realtime.flushIntervalMs}, ${SECONDS} s per run, median of ${RUNS} runs `
    + `(target p99 < ${TARGET_P99_MS} ms at 500 events/s; CPU % is of one core, over publishing plus the wait for the last deliveries)`, rows);
  if (PROFILE_DIR) {
    for (let g = 0; g < GENERATORS; g++) {
      const file = join(PROFILE_DIR, `generator-${g}.cpuprofile`);
      printTable(`Client process ${g + 1} CPU profile, whole run (${file})`, summariseCpuProfile(file, 10));
    }
  }
  const meeting = figures.filter((f) => f.p99 < TARGET_P99_MS).map((f) => f.rate);
  recordFigures('fanout', [
    ...figures.map((f) => ({ figure: `${CLIENTS} clients @${f.rate} events/s: delivery p99 ms`, value: ms(f.p99), detail: f.detail })),
    { figure: `${CLIENTS} clients: highest measured rate with p99 < ${TARGET_P99_MS} ms (events/s)`, value: meeting.length ? Math.max(...meeting) : 'none', detail: `of ${RATES.join(', ')}; target 500` },
  ]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
