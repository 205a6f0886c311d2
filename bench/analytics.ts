/**
 * Analytics:
 *  1. events ingested per second over HTTP (batches of 500, 4 clients), and until they are in
 *     the rollups;
 *  2. the overview and funnel over 100,000 and 1,000,000 events: read from the rollups (HTTP,
 *     Europe/Paris) against the same figures computed from the raw events by an aggregation in
 *     the same run, each the median of several runs. The raw events are inserted with insertMany
 *     in batches of 20,000 and their rollup documents built in memory and inserted alongside, as
 *     the flusher would have left them;
 *  3. why counts go through Redis: concurrent `$inc` on one document from two connections.
 *
 *   npm run build && node dist/scripts/with-services.js -- node dist/bench/analytics.js
 *   BENCH_ANALYTICS_SIZES=100000,1000000 BENCH_RUNS=5 BENCH_RAW_RUNS=3 BENCH_RAW_RUNS_LARGE=1 BENCH_INGEST=20000
 *   BENCH_RAW_LIMIT=100000 (larger sizes: rollup documents only)
 */
import { join } from 'node:path';
import type { Collection } from 'mongodb';
import { MongoClient } from 'mongodb';
import type { Model } from 'mongoose';
import { loadConfig } from '../core/config/load-config.js';
import { projectRoot } from '../core/paths.js';
import { FlowgateServer } from '../core/server.js';
import { AnalyticsEventModel, type AnalyticsEvent } from '../plugins/analytics/models/analytics-event.js';
import { CountedTypeModel, DayRollupModel, hourKey, HourRollupModel, type DayCombo, type HourCombo, type Rollup } from '../plugins/analytics/models/rollup.js';
import { canonicalDimensions, comboHash } from '../plugins/analytics/services/event-recorder.js';
import { RollupFlusher } from '../plugins/analytics/services/rollup-flusher.js';
import { median, printTable } from './lib.js';

const SIZES = (process.env.BENCH_ANALYTICS_SIZES ?? '100000,1000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RAW_RUNS = Number(process.env.BENCH_RAW_RUNS ?? 3);
/** Raw aggregations over 1,000,000 events take minutes each on FerretDB v1: fewer runs there. */
const RAW_RUNS_LARGE = Number(process.env.BENCH_RAW_RUNS_LARGE ?? 1);
/**
 * Above this many events only the rollup documents are inserted ("buckets-equivalent"): the
 * rollups of that many events, without the raw events, whose insert and scans take too long on
 * FerretDB v1 under load. The raw side is then not measured.
 */
const RAW_LIMIT = Number(process.env.BENCH_RAW_LIMIT ?? Infinity);
const INGEST = Number(process.env.BENCH_INGEST ?? 20_000);
const STATIC_AUTH = { from: './dist/tests/fixtures/plugins/static-auth/index.js' };
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const DAYS = 90;
const FUNNEL = ['contact.created', 'message.sent', 'message.replied', 'sale.recorded'];

async function boot(database: string): Promise<FlowgateServer> {
  const url = new URL(process.env.MONGODB_URI as string);
  url.pathname = `/${database}`;
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, NODE_ENV: 'production', MONGODB_URI: url.toString() },
    overrides: {
      plugins: [STATIC_AUTH, 'analytics'], http: { port: 0 }, log: { level: 'error' }, workflows: { dir: join(projectRoot, 'dist/bench/no-workflows'), watch: false },
      pluginSettings: { analytics: { retentionDays: 3_650, flushEveryMs: 200 } },
    },
  });
  const server = new FlowgateServer(config);
  await server.start();
  return server;
}

const headers = (role: string) => ({ authorization: `Bearer role:${role}`, 'content-type': 'application/json' });

/** A deterministic event stream over 90 days: the message funnel, consent and sales. */
function event(i: number, prefix: string): Pick<AnalyticsEvent, '_id' | 'type' | 'occurredAt' | 'dimensions' | 'value'> {
  const r = (i * 2_654_435_761) % 1_000;
  const type = r < 350 ? 'message.sent' : r < 650 ? 'message.delivered' : r < 850 ? 'message.read' : r < 900 ? 'message.replied' : r < 950 ? 'contact.created' : r < 975 ? 'consent.opted_out' : 'sale.recorded';
  const occurredAt = new Date(START + Math.floor(((i * 7_919) % (DAYS * 86_400)) * 1_000));
  const dimensions: Record<string, string> = type === 'contact.created' ? { phoneNumberId: `p${i % 2}` }
    : type === 'consent.opted_out' ? { source: 'keyword', keyword: 'STOP' }
      : type === 'sale.recorded' ? { currency: i % 3 ? 'EUR' : 'USD', campaignId: `c${i % 5}`, templateName: `t${i % 10}`, agentId: `a${i % 8}` }
        : { phoneNumberId: `p${i % 2}`, templateName: `t${i % 10}`, campaignId: `c${i % 5}` };
  return { _id: `${prefix}${i}`, type, occurredAt, dimensions: canonicalDimensions(dimensions), ...(type === 'sale.recorded' ? { value: 1_000 + (i % 50) * 100 } : {}) };
}

async function ingestRun(): Promise<Record<string, string | number>> {
  const server = await boot('bench_analytics_ingest');
  const batches: object[][] = [];
  for (let i = 0; i < INGEST; i += 500) {
    batches.push(Array.from({ length: Math.min(500, INGEST - i) }, (_, j) => {
      const e = event(i + j, 'ingest-');
      return { id: e._id, type: e.type, occurredAt: new Date(Date.now() - ((i + j) % 3_600) * 1_000).toISOString(), dimensions: e.dimensions, ...(e.value ? { value: e.value } : {}) };
    }));
  }
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < batches.length) {
      const events = batches[next++];
      const response = await fetch(`${server.url}/api/analytics/events`, { method: 'POST', headers: headers('manager'), body: JSON.stringify({ events }) });
      if (!response.ok) throw new Error(`ingest answered ${response.status}`);
      await response.arrayBuffer();
    }
  }));
  const acknowledged = performance.now() - t0;
  await server.get(RollupFlusher).settle(120_000);
  const rolledUp = performance.now() - t0;
  await server.stop();
  return { events: INGEST, 'acknowledged (s)': acknowledged / 1_000, 'events/s acknowledged': Math.round(INGEST / (acknowledged / 1_000)), 'in rollups (s)': rolledUp / 1_000, 'events/s into rollups': Math.round(INGEST / (rolledUp / 1_000)) };
}

/** Inserts `size` raw events and the rollup documents they make, as the flusher leaves them; returns the insert time. */
async function load(server: FlowgateServer, size: number): Promise<number> {
  const events = server.get(AnalyticsEventModel.token).collection as unknown as Collection<AnalyticsEvent>;
  const dayDocs = new Map<string, Rollup<DayCombo>>();
  const hourDocs = new Map<string, Rollup<HourCombo>>();
  const t0 = performance.now();
  const receivedAt = new Date();
  for (let start = 0; start < size; start += 20_000) {
    const chunk: AnalyticsEvent[] = [];
    for (let i = start; i < Math.min(size, start + 20_000); i++) {
      const e = event(i, '');
      chunk.push({ ...e, source: 'api', batch: 'bench', receivedAt });
      const day = e.occurredAt.toISOString().slice(0, 10);
      const id = `${e.type}|${day}`;
      const combo = comboHash(JSON.stringify(e.dimensions));
      const base = { _id: id, type: e.type, day: new Date(`${day}T00:00:00Z`), c: {}, lastBatch: 1 };
      const dayDoc = dayDocs.get(id) ?? { ...base, c: {} as Record<string, DayCombo> };
      const hourDoc = hourDocs.get(id) ?? { ...base, c: {} as Record<string, HourCombo> };
      dayDocs.set(id, dayDoc);
      hourDocs.set(id, hourDoc);
      const daily = (dayDoc.c[combo] ??= { d: e.dimensions, n: 0, v: 0 });
      const hourly = (hourDoc.c[combo] ??= { d: e.dimensions, h: {}, hv: {} });
      const hour = hourKey(e.occurredAt.getUTCHours());
      daily.n++;
      hourly.h[hour] = (hourly.h[hour] ?? 0) + 1;
      if (e.value) {
        daily.v += e.value;
        (hourly.hv ??= {})[hour] = (hourly.hv[hour] ?? 0) + e.value;
      }
    }
    if (size <= RAW_LIMIT) await events.insertMany(chunk, { ordered: false });
  }
  await (server.get(DayRollupModel.token).collection as unknown as Collection<Rollup<DayCombo>>).insertMany([...dayDocs.values()]);
  await (server.get(HourRollupModel.token).collection as unknown as Collection<Rollup<HourCombo>>).insertMany([...hourDocs.values()]);
  const types = [...new Set([...dayDocs.values()].map((d) => d.type))];
  await server.get(CountedTypeModel.token).insertMany(types.map((type) => ({ _id: type, firstCountedAt: receivedAt })));
  return (performance.now() - t0) / 1_000;
}

async function timed<T>(runs: number, work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const times: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await work();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result: result as T };
}

async function queryRun(size: number): Promise<Array<Record<string, string | number>>> {
  const server = await boot(`bench_analytics_${size}`);
  const loadSeconds = await load(server, size);
  const events = server.get(AnalyticsEventModel.token) as unknown as Model<AnalyticsEvent>;
  const rollupDocs = await server.get(DayRollupModel.token).estimatedDocumentCount();
  const period = `from=2026-01-01&to=${new Date(START + DAYS * DAY_MS).toISOString().slice(0, 10)}&tz=Europe/Paris`;
  const getJson = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${server.url}${path}`, { headers: headers('analyst') });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return await response.json() as T;
  };

  const overview = await timed(RUNS, () => getJson<{ period: { from: string; to: string }; byType: Array<{ type: string; count: number }> }>(`/api/analytics/overview?${period}`));
  const funnel = await timed(RUNS, () => getJson<{ stages: Array<{ type: string; count: number }>; sales: Array<{ currency: string; amount: number }> }>(`/api/analytics/funnel?${period}`));
  if (size > RAW_LIMIT) {
    // Buckets only: the rollups must still hold every generated event.
    const total = overview.result.byType.reduce((n, b) => n + b.count, 0);
    const [from, to] = [Date.parse(overview.result.period.from), Date.parse(overview.result.period.to)];
    let inPeriod = 0;
    for (let i = 0; i < size; i++) {
      const at = event(i, '').occurredAt.getTime();
      if (at >= from && at < to) inPeriod++;
    }
    if (total !== inPeriod) throw new Error(`the rollups hold ${total} events of the period, not ${inPeriod}`);
    await server.stop();
    const base = { events: `${size} (buckets only)`, 'day + hour docs': `${rollupDocs} + ${rollupDocs}`, 'load (s)': loadSeconds };
    return [
      { ...base, query: 'overview', 'rollups (ms)': overview.ms, 'raw aggregation (ms)': 'not measured', 'raw runs': 0, speedup: '' },
      { ...base, query: 'funnel', 'rollups (ms)': funnel.ms, 'raw aggregation (ms)': 'not measured', 'raw runs': 0, speedup: '' },
    ];
  }
  // The same period in UTC instants as the rollup answer used (Paris local days, DST included).
  const range = { $gte: new Date(overview.result.period.from), $lt: new Date(overview.result.period.to) };
  const rawRuns = size >= 1_000_000 ? RAW_RUNS_LARGE : RAW_RUNS;
  const rawOverview = await timed(rawRuns, () => events.aggregate<{ _id: string; count: number }>([
    { $match: { occurredAt: range } }, { $group: { _id: '$type', count: { $sum: 1 } } },
  ]));
  // Sale amounts in their own aggregation: FerretDB v1 sums a field to 0 in a group where some documents lack it.
  const rawFunnel = await timed(rawRuns, async () => ({
    stages: await events.aggregate<{ _id: string; count: number }>([{ $match: { type: { $in: FUNNEL }, occurredAt: range } }, { $group: { _id: '$type', count: { $sum: 1 } } }]),
    sales: await events.aggregate<{ _id: string; amount: number }>([{ $match: { type: 'sale.recorded', occurredAt: range } }, { $group: { _id: '$dimensions.currency', amount: { $sum: '$value' } } }]),
  }));
  // Both ways must give the same figures, or the timing means nothing.
  const fromRaw = new Map(rawOverview.result.map((r) => [r._id, r.count]));
  const stagesRaw = new Map(rawFunnel.result.stages.map((r) => [r._id, r.count]));
  const salesRaw = new Map(rawFunnel.result.sales.map((r) => [r._id, r.amount]));
  const same = overview.result.byType.every((b) => fromRaw.get(b.type) === b.count) && overview.result.byType.length === fromRaw.size
    && funnel.result.stages.every((s) => (stagesRaw.get(s.type) ?? 0) === s.count) && funnel.result.sales.every((s) => salesRaw.get(s.currency) === s.amount);
  if (!same) throw new Error(`rollup and raw figures differ: ${JSON.stringify([overview.result, funnel.result])} vs ${JSON.stringify([rawOverview.result, rawFunnel.result])}`);
  await server.stop();
  const base = { events: size, 'day + hour docs': `${rollupDocs} + ${rollupDocs}`, 'load (s)': loadSeconds };
  return [
    { ...base, query: 'overview', 'rollups (ms)': overview.ms, 'raw aggregation (ms)': rawOverview.ms, 'raw runs': rawRuns, speedup: `${Math.round(rawOverview.ms / overview.ms)}x` },
    { ...base, query: 'funnel', 'rollups (ms)': funnel.ms, 'raw aggregation (ms)': rawFunnel.ms, 'raw runs': rawRuns, speedup: `${Math.round(rawFunnel.ms / funnel.ms)}x` },
  ];
}

/** Two connections each `$inc` one document 500 times at once: how many increments survive. */
async function concurrentIncrements(): Promise<Record<string, string | number>> {
  const url = new URL(process.env.MONGODB_URI as string);
  url.pathname = '/bench_analytics_inc';
  const clients = await Promise.all([0, 1].map(() => new MongoClient(url.toString(), { maxPoolSize: 10 }).connect()));
  const collections = clients.map((c) => c.db().collection<{ _id: string; n: number }>('counters'));
  await collections[0]?.deleteMany({});
  await collections[0]?.insertOne({ _id: 'one', n: 0 });
  await Promise.all(Array.from({ length: 1_000 }, (_, i) => collections[i % 2]?.updateOne({ _id: 'one' }, { $inc: { n: 1 } })));
  const stored = (await collections[0]?.findOne({ _id: 'one' }))?.n ?? 0;
  await Promise.all(clients.map((c) => c.close()));
  return { increments: 1_000, stored, lost: 1_000 - stored };
}

async function main(): Promise<void> {
  // Each table as soon as it is measured: the 1,000,000-event row takes long on FerretDB.
  printTable('Concurrent $inc on one document from two connections (why counts are buffered in Redis)', [await concurrentIncrements()]);
  printTable(`Ingestion over HTTP (batches of 500, 4 clients)`, [await ingestRun()]);
  for (const size of SIZES) {
    printTable(`Overview and funnel over ${DAYS} days, Europe/Paris: rollups (HTTP, median of ${RUNS}) vs aggregation over the raw events (median of "raw runs")`, await queryRun(size));
  }
}

await main();
process.exit(0);
