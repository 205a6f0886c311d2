/**
 * Rate-limit benchmark. Run with services: `node dist/scripts/with-services.js -- node dist/bench/rate-limit.js`.
 *   1. Decisions per second of the limiter's Lua script (every window checked and counted in one
 *      round trip): one at a time, and pipelined (many in flight on the one Redis connection).
 *   2. Decisions per second of the whole `rate.limit@1` policy, which also looks up the
 *      recipient's service window in MongoDB.
 *   3. Latency of a full `GET /api/compliance/check` (block, consent, window and rate policies)
 *      over HTTP: p50 and p99, one client and several in parallel.
 * Each figure is the median of BENCH_RATE_RUNS runs (default 5) of BENCH_RATE_SECONDS (default 3).
 */
import { join } from 'node:path';
import { loadConfig } from '../core/config/load-config.js';
import { projectRoot } from '../core/paths.js';
import { FlowgateServer } from '../core/server.js';
import { RedisConnection, type PolicyCheck } from '../core/index.js';
import { RateLimitPolicy } from '../plugins/rate-limit/policies/rate-limit.js';
import { RateLimiter } from '../plugins/rate-limit/services/rate-limiter.js';
import { median, percentile, printTable } from './lib.js';

const RUNS = Number(process.env.BENCH_RATE_RUNS ?? 5);
const SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 3);
const PIPELINE = Number(process.env.BENCH_RATE_PIPELINE ?? 64);
const SENDERS = Array.from({ length: 16 }, (_, i) => String(900000 + i));

async function boot(): Promise<FlowgateServer> {
  const uri = new URL(process.env.MONGODB_URI as string);
  uri.pathname = `/bench_rate_${Date.now()}`;
  process.env.WHATSAPP_PHONE_NUMBER_ID = SENDERS[0];
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: uri.toString() },
    overrides: {
      plugins: [{ from: './dist/tests/fixtures/plugins/static-auth/index.js' }, 'whatsapp', 'consent', 'rate-limit'],
      log: { level: 'silent' }, http: { port: 0, validateResponses: false }, workflows: { dir: join(projectRoot, 'dist/bench/no-workflows'), watch: false },
      redis: { keyPrefix: `bench-rate-${Date.now()}:` },
      pluginSettings: {
        whatsapp: { senders: SENDERS.map((phoneNumberId) => ({ phoneNumberId })) },
        // Limits high enough that the figures measure deciding, not waiting.
        rate: { tier: 'TIER_UNLIMITED', perSecond: 1000, pair: { burst: 1_000_000, intervalMs: 1 } },
      },
    },
  });
  const server = new FlowgateServer(config);
  await server.start();
  return server;
}

/** Runs `decide` from `inFlight` loops for SECONDS; returns decisions per second. */
async function rate(inFlight: number, decide: (n: number) => Promise<unknown>): Promise<number> {
  let count = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < deadline) await decide(count++);
  }));
  return count / ((performance.now() - started) / 1000);
}

/** Latencies (ms) of GET /api/compliance/check from `clients` parallel clients for SECONDS. */
async function checkLatencies(url: string, clients: number): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    let i = 0;
    while (performance.now() < deadline) {
      const phone = `4479${String(client).padStart(3, '0')}${String(i++ % 100000).padStart(6, '0')}`;
      const t0 = performance.now();
      const response = await fetch(`${url}/api/compliance/check?phone=${phone}&category=marketing&from=${SENDERS[client % SENDERS.length]}`, { headers: { authorization: 'Bearer role:agent' } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`compliance check answered ${response.status}`);
      latencies.push(performance.now() - t0);
    }
  }));
  return { perSecond: latencies.length / ((performance.now() - started) / 1000), latencies };
}

async function main(): Promise<void> {
  const server = await boot();
  const limiter = server.get(RateLimiter);
  const policy = server.get(RateLimitPolicy);
  const decision = (n: number) => limiter.decide({ sender: SENDERS[n % SENDERS.length] as string, recipient: `4478${n % 1_000_000}`, countsTowardMessagingLimit: true, consume: true });
  const run = { executionId: 'bench', workflowId: 'bench', stepId: 'send', idempotencyKey: 'bench', simulate: false, attempt: 1, logger: server.logger, signal: new AbortController().signal };
  const policyCheck = (n: number) => policy.check({ config: {}, step: { id: 'send', action: 'whatsapp.send@1', input: { to: `+4477${n % 1_000_000}`, from: SENDERS[n % SENDERS.length], template: { name: 'x', language: 'en' } } }, run } as PolicyCheck);

  const single: number[] = [];
  const pipelined: number[] = [];
  const policies: number[] = [];
  const check1: Array<{ perSecond: number; latencies: number[] }> = [];
  const check10: Array<{ perSecond: number; latencies: number[] }> = [];
  const redis = server.get(RedisConnection).client;
  /** Redis's own time per script call since the last reset (INFO commandstats), in µs. */
  const scriptMicros = async () => {
    const line = (await redis.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
    await redis.config('RESETSTAT');
    return Number(/usec_per_call=([\d.]+)/.exec(line ?? '')?.[1] ?? 0);
  };
  const inRedis: number[] = [];
  await rate(8, decision); // warm up: scripts loaded, connections open, JIT
  await checkLatencies(server.url, 4);
  for (let i = 0; i < RUNS; i++) {
    await scriptMicros();
    single.push(await rate(1, decision));
    pipelined.push(await rate(PIPELINE, decision));
    inRedis.push(await scriptMicros());
    policies.push(await rate(16, policyCheck));
    check1.push(await checkLatencies(server.url, 1));
    check10.push(await checkLatencies(server.url, 10));
    console.error(`run ${i + 1}/${RUNS}: single ${single.at(-1)?.toFixed(0)}/s, pipelined ${pipelined.at(-1)?.toFixed(0)}/s, policy ${policies.at(-1)?.toFixed(0)}/s, check p99 ${percentile(check10.at(-1)?.latencies ?? [], 99).toFixed(1)} ms`);
  }
  await server.stop();

  const runs = (values: number[]) => values.map((v) => v.toFixed(0)).join(' ');
  console.log(`\nRedis time per decision script (INFO commandstats), median: ${median(inRedis).toFixed(1)} µs (runs: ${inRedis.map((v) => v.toFixed(1)).join(' ')})`);
  printTable(`Rate-limit decisions (Lua script in Redis: check and count every window), median of ${RUNS} runs of ${SECONDS} s`, [
    { what: 'limiter, one at a time', 'decisions/s': median(single), 'mean latency ms': 1000 / median(single), 'runs (decisions/s)': runs(single) },
    { what: `limiter, pipelined (${PIPELINE} in flight)`, 'decisions/s': median(pipelined), 'mean latency ms': (1000 * PIPELINE) / median(pipelined), 'runs (decisions/s)': runs(pipelined) },
    { what: 'rate.limit@1 policy (+ window lookup), 16 in flight', 'decisions/s': median(policies), 'mean latency ms': (1000 * 16) / median(policies), 'runs (decisions/s)': runs(policies) },
  ]);
  const row = (label: string, results: Array<{ perSecond: number; latencies: number[] }>) => ({
    clients: label, 'checks/s': median(results.map((r) => r.perSecond)),
    'p50 ms': median(results.map((r) => percentile(r.latencies, 50))), 'p99 ms': median(results.map((r) => percentile(r.latencies, 99))),
    'runs (p99 ms)': results.map((r) => percentile(r.latencies, 99).toFixed(1)).join(' '),
  });
  printTable(`GET /api/compliance/check over HTTP (4 policies), median of ${RUNS} runs of ${SECONDS} s`, [row('1', check1), row('10', check10)]);
}

await main();
