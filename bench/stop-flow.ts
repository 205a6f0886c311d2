/**
 * The STOP flow end to end: a signed WhatsApp webhook "STOP" from a new customer → consent
 * revoked + audit entry written + both announced over Socket.IO, observed by a
 * `socket.io-client`. Flowgate runs as real server processes (the shipped `stop-keyword`
 * workflow, plugins audit, flow, whatsapp, consent); the in-run baseline is a hand-written
 * express + mongoose handler doing the same durable writes (bench/support/handwritten-stop.ts).
 * Both run against the same FerretDB and Redis, each row on a fresh database, interleaved
 * run by run so that both see the same machine load.
 *
 * Rows: 10 and 50 connections (one Flowgate process, and the baseline), 50 connections on two
 * Flowgate processes, then a memory soak. Per row: accepted/s, completed/s, ack and
 * event-to-completion latency, lost and duplicated flows, peak RSS, CPU seconds of every
 * process, and the MongoDB commands each flow cost (counted by a preloaded listener).
 *
 *   npm run build && node dist/scripts/with-services.js -- node dist/bench/stop-flow.js
 *   BENCH_RUNS=3 BENCH_STOP_REQUESTS=300 BENCH_STOP_CONNECTIONS=10,50 BENCH_STOP_SECONDS=60
 *   BENCH_STOP_DRAIN=120 BENCH_SOAK_SECONDS=300 (0: no soak) BENCH_STOP_TWO=1 BENCH_CPU_PROF=1
 *   BENCH_SQLITE_PARAMS='_pragma=synchronous(normal)' (FerretDB's SQLite URL parameters)
 *   BENCH_COMPARE_ROOT=/path/to/another/checkout (built): also runs that build's Flowgate, interleaved,
 *   as "before" at the first connection count (a before/after comparison in the same run and conditions)
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { io, type Socket } from 'socket.io-client';
import { projectRoot } from '../core/paths.js';
import { freePort, startFerretDb, startRedis, type RunningService } from '../scripts/local-services.js';
import { GraphApiDouble } from '../tests/doubles/graph-api.js';
import { inboundText, PHONE_NUMBER_ID } from '../tests/doubles/whatsapp-payloads.js';
import { median, percentile, printTable, recordFigures } from './lib.js';
import { summariseCpuProfile } from './support/cpu-profile.js';
import type { CommandTotals } from './support/command-counter.js';
import { cpuSeconds, loadAverage, memoryMb, sendWebhooks, startProcess, stopStarted, type Sent, type Started } from './support/processes.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REQUESTS = Number(process.env.BENCH_STOP_REQUESTS ?? 300);
const CONNECTIONS = (process.env.BENCH_STOP_CONNECTIONS ?? '10,50').split(',').map(Number);
const SEND_CAP_S = Number(process.env.BENCH_STOP_SECONDS ?? 60);
const DRAIN_CAP_S = Number(process.env.BENCH_STOP_DRAIN ?? 120);
const SOAK_S = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const TWO_PROCESSES = process.env.BENCH_STOP_TWO !== '0';
const CPU_PROFILE = process.env.BENCH_CPU_PROF === '1';
const APP_SECRET = 'bench-app-secret';
const KEY = 'bench-key-0123456789abcdef0123456789abcdef';

type Side = 'flowgate' | 'before' | 'handwritten';
const COMPARE_ROOT = process.env.BENCH_COMPARE_ROOT;
interface Services { mongo: RunningService; redis: RunningService; stop(): Promise<void> }
interface Row {
  side: Side; processes: number; connections: number; sent: number; acked: number; non2xx: number; completed: number; lost: number; duplicated: number;
  acceptedPerS: number; completedPerS: number; ackP50: number; ackP99: number; e2cP50: number; e2cP99: number;
  peakRssMb: number; cpu: Record<string, number>; wallS: number; commandsPerFlow: number; commandMsPerFlow: number; commands: CommandTotals; load: string;
}

const distDir = join(projectRoot, 'dist');
const dataDir = resolve('.data', `bench-stop-${process.pid}`);

async function startServices(): Promise<Services> {
  const mongo = await startFerretDb(join(dataDir, 'ferretdb'), undefined, { sqliteParams: process.env.BENCH_SQLITE_PARAMS });
  const redis = await startRedis(join(dataDir, 'redis'));
  return { mongo, redis, stop: async () => { await Promise.all([mongo.stop(), redis.stop()]); } };
}

const databaseUri = (services: Services, name: string) => {
  const url = new URL(services.mongo.url);
  url.pathname = `/${name}`;
  return url.toString();
};

let rowCounter = 0;

/** Starts the side's server processes on a fresh database and Redis prefix. */
async function startSide(side: Side, processes: number, services: Services, graph: GraphApiDouble, profileDir?: string): Promise<{ servers: Started[]; database: string; commandFiles: string[] }> {
  const database = `stop_${side}_${rowCounter++}`;
  const mongodbUri = databaseUri(services, database);
  const commandFiles: string[] = [];
  const servers: Started[] = [];
  for (let i = 0; i < processes; i++) {
    const port = await freePort();
    const commandFile = join(dataDir, `${database}-${i}.commands.json`);
    commandFiles.push(commandFile);
    const preload = ['--import', join(distDir, 'bench/support/command-counter.js'), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
    const env = { ...process.env, BENCH_COMMANDS_FILE: commandFile, MONGODB_URI: mongodbUri, REDIS_URL: services.redis.url };
    if (side !== 'handwritten') {
      const root = side === 'before' ? COMPARE_ROOT as string : projectRoot;
      servers.push(await startProcess([...preload, join(root, 'dist/core/cli/flowgate.js'), 'start'], {
        ...env, NODE_ENV: 'production', PORT: String(port),
        FLOWGATE__plugins: JSON.stringify([{ from: './dist/tests/fixtures/plugins/static-auth/index.js' }, 'audit', 'flow', 'whatsapp', 'consent']),
        FLOWGATE__log__level: 'error', FLOWGATE__workflows__watch: 'false', FLOWGATE__redis__keyPrefix: `${database}:`,
        WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: 'bench', WHATSAPP_ACCESS_TOKEN: 'bench', WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url,
        CONSENT_ERASURE_KEY: KEY, FLOWGATE_AUDIT_PSEUDONYM_KEY: KEY, FLOWGATE_AUDIT_SIGNING_KEY: KEY,
      }, `http://127.0.0.1:${port}`, '/api/health', `${side} ${i + 1}`, root));
    } else {
      servers.push(await startProcess([...preload, join(distDir, 'bench/support/handwritten-stop.js')], {
        ...env, PORT: String(port), APP_SECRET, GRAPH_URL: graph.url,
      }, `http://127.0.0.1:${port}`, '/webhooks/whatsapp', 'hand-written handler'));
    }
  }
  return { servers, database, commandFiles };
}

/** Watches a socket for the two events that finish one customer's STOP; counts repeats. */
function watchCompletions(socket: Socket) {
  const changeOf = new Map<string, { changeId: string; at: number }>();
  const auditOf = new Map<string, number>();
  let duplicates = 0;
  const waiters = new Set<() => void>();
  socket.on('consent.changed', (event: { phone: string; state: string; changeId: string }) => {
    if (event.state !== 'opted_out') return;
    if (changeOf.has(event.phone)) duplicates++;
    else changeOf.set(event.phone, { changeId: event.changeId, at: performance.now() });
    for (const wake of waiters) wake();
  });
  socket.on('audit.entry', (event: { action: string; resource?: { id?: string } }) => {
    if (event.action !== 'consent.revoked' || !event.resource?.id) return;
    if (auditOf.has(event.resource.id)) duplicates++;
    else auditOf.set(event.resource.id, performance.now());
    for (const wake of waiters) wake();
  });
  /** When the phone's flow was complete (both events seen), or undefined. */
  const completedAt = (phone: string): number | undefined => {
    const change = changeOf.get(phone);
    const audited = change && auditOf.get(change.changeId);
    return change && audited ? Math.max(change.at, audited) : undefined;
  };
  const waitFor = async (phones: string[], capMs: number): Promise<void> => {
    const deadline = performance.now() + capMs;
    while (phones.some((p) => completedAt(p) === undefined) && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = () => { waiters.delete(wake); clearTimeout(timer); resolve(); };
        const timer = setTimeout(wake, 500);
        waiters.add(wake);
      });
    }
  };
  return { completedAt, waitFor, duplicates: () => duplicates };
}

async function connectSocket(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], auth: { token: 'role:owner' }, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => { socket.once('connect', () => resolve()); socket.once('connect_error', reject); });
  const result = await socket.emitWithAck('subscribe', ['consent', 'audit']) as { denied: unknown[] };
  if (result.denied.length) throw new Error(`socket subscription denied: ${JSON.stringify(result.denied)}`);
  return socket;
}

/**
 * What the database holds afterwards: opt-out changes, and the STOP flow's audit entries
 * (`consent.revoked` of a consent change; other entries, such as API requests, are not counted).
 */
async function storedCounts(services: Services, database: string, side: Side): Promise<{ changes: number; audits: number; auditedChanges: number }> {
  const client = new MongoClient(databaseUri(services, database));
  try {
    const db = client.db(database);
    const [changes, audits] = side === 'handwritten'
      ? [db.collection('hand_consent_changes'), db.collection('hand_audit')]
      : [db.collection('consentchanges'), db.collection('audit_entries')];
    const entries = await audits.find({ action: 'consent.revoked', 'resource.type': 'consent' }, { projection: { 'resource.id': 1 } }).toArray();
    return {
      changes: await changes.countDocuments({ state: 'opted_out' }), audits: entries.length,
      auditedChanges: new Set(entries.map((e) => (e.resource as { id?: string } | undefined)?.id)).size,
    };
  } finally {
    await client.close();
  }
}

function readCommands(files: string[]): CommandTotals {
  const total: CommandTotals = {};
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const [key, value] of Object.entries(JSON.parse(readFileSync(file, 'utf8')) as CommandTotals)) {
      const entry = (total[key] ??= { count: 0, ms: 0 });
      entry.count += value.count;
      entry.ms += value.ms;
    }
  }
  return total;
}

const stopPayload = (phone: string) => inboundText('STOP', { from: phone }).payload;

async function measure(side: Side, processes: number, connections: number, services: Services, graph: GraphApiDouble, profileDir?: string): Promise<Row> {
  const { servers, database, commandFiles } = await startSide(side, processes, services, graph, profileDir);
  const socket = await connectSocket(servers.at(-1)?.url as string);
  const watcher = watchCompletions(socket);
  let peakRssMb = 0;
  const sampler = setInterval(() => { for (const s of servers) peakRssMb = Math.max(peakRssMb, memoryMb(s.pid).peak); }, 250);
  const pids: Record<string, number> = { ferretdb: services.mongo.pid, redis: services.redis.pid, ...Object.fromEntries(servers.map((s, i) => [`server ${i + 1}`, s.pid])) };
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const benchCpuBefore = process.cpuUsage();
  const tag = String(rowCounter).padStart(3, '0');
  const started = performance.now();
  const sent: Sent[] = await sendWebhooks({
    urls: servers.map((s) => s.url), connections, count: REQUESTS, maxSeconds: SEND_CAP_S, secret: APP_SECRET,
    phone: (n) => `44${tag}${String(n).padStart(7, '0')}`, payload: stopPayload,
  });
  const lastAck = Math.max(...sent.map((s) => s.ackedAt ?? 0));
  const acked = sent.filter((s) => s.status === 200);
  await watcher.waitFor(acked.map((s) => s.phone), DRAIN_CAP_S * 1000);
  const completions = acked.map((s) => ({ sent: s, at: watcher.completedAt(s.phone) })).filter((c): c is { sent: Sent; at: number } => c.at !== undefined);
  const lastCompletion = Math.max(...completions.map((c) => c.at), lastAck);
  const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) - (cpuBefore[name] ?? 0)]));
  const benchCpu = process.cpuUsage(benchCpuBefore);
  cpu['load generator + socket client'] = (benchCpu.user + benchCpu.system) / 1e6;
  clearInterval(sampler);
  for (const s of servers) peakRssMb = Math.max(peakRssMb, memoryMb(s.pid).peak);
  for (const s of servers) s.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 300));
  const commands = readCommands(commandFiles);
  socket.disconnect();
  await Promise.all(servers.map((s) => s.stop()));
  const stored = await storedCounts(services, database, side);
  const completed = Math.min(completions.length, stored.changes, stored.auditedChanges);
  const totalCommands = Object.values(commands).reduce((sum, c) => sum + c.count, 0);
  const totalCommandMs = Object.values(commands).reduce((sum, c) => sum + c.ms, 0);
  const acks = sent.filter((s) => s.ackedAt !== undefined).map((s) => (s.ackedAt as number) - s.sentAt);
  const row: Row = {
    side, processes, connections, sent: sent.length, acked: acked.length, non2xx: sent.length - acked.length, completed,
    lost: acked.length - completed,
    duplicated: watcher.duplicates() + Math.max(0, stored.changes - acked.length) + (stored.audits - stored.auditedChanges),
    acceptedPerS: acked.length / ((lastAck - started) / 1000), completedPerS: completed / ((lastCompletion - started) / 1000),
    ackP50: percentile(acks, 50), ackP99: percentile(acks, 99),
    e2cP50: percentile(completions.map((c) => c.at - c.sent.sentAt), 50), e2cP99: percentile(completions.map((c) => c.at - c.sent.sentAt), 99),
    peakRssMb, cpu, wallS: (lastCompletion - started) / 1000, commandsPerFlow: totalCommands / Math.max(1, completed), commandMsPerFlow: totalCommandMs / Math.max(1, completed),
    commands, load: loadAverage(),
  };
  console.error(`${side} ×${processes} @${connections}: ${row.completedPerS.toFixed(1)} completed/s, ${row.acceptedPerS.toFixed(1)} accepted/s, ack p99 ${row.ackP99.toFixed(0)} ms, unfinished ${row.lost}, dup ${row.duplicated}, ${row.commandsPerFlow.toFixed(1)} commands/flow, peak RSS ${peakRssMb.toFixed(0)} MB, load ${row.load}`);
  return row;
}

/** Flowgate under a steady closed-loop load for `seconds`: RSS after warm-up vs at the end. */
async function soak(services: Services, graph: GraphApiDouble, seconds: number): Promise<Record<string, string | number>> {
  const { servers } = await startSide('flowgate', 1, services, graph);
  const server = servers[0] as Started;
  const samples: Array<{ t: number; rss: number }> = [];
  const started = performance.now();
  const sampler = setInterval(() => samples.push({ t: (performance.now() - started) / 1000, rss: memoryMb(server.pid).rss }), 1000);
  const sent = await sendWebhooks({
    urls: [server.url], connections: 10, count: Number.MAX_SAFE_INTEGER, maxSeconds: seconds, secret: APP_SECRET,
    phone: (n) => `45${String(n).padStart(9, '0')}`, payload: stopPayload,
  });
  clearInterval(sampler);
  const peak = memoryMb(server.pid).peak;
  await server.stop();
  // Warm-up: the first 10 % (at least 20 s) fills caches and compiles code; growth is measured after it.
  const warm = Math.max(20, seconds * 0.1);
  const window = (from: number, to: number) => median(samples.filter((s) => s.t >= from && s.t < to).map((s) => s.rss));
  const afterWarmUp = window(warm, warm + 10);
  const atEnd = window(seconds - 10, seconds + 1);
  const statuses = new Map<number, number>();
  for (const { status } of sent) statuses.set(status ?? 0, (statuses.get(status ?? 0) ?? 0) + 1);
  return {
    seconds, webhooks: sent.length, acknowledged: statuses.get(200) ?? 0,
    'other answers': [...statuses].filter(([status]) => status !== 200).map(([status, n]) => `${n}× ${status || 'no answer'}`).join(', ') || '–',
    'RSS after warm-up MB': Math.round(afterWarmUp), 'RSS at end MB': Math.round(atEnd),
    'growth %': Number((((atEnd - afterWarmUp) / afterWarmUp) * 100).toFixed(1)), 'peak RSS MB': Math.round(peak), load: loadAverage(),
  };
}

const fmt = (n: number, digits = 1) => Number(n.toFixed(digits));

function summary(rows: Row[]): Record<string, string | number> {
  const first = rows[0] as Row;
  const m = (pick: (r: Row) => number) => median(rows.map(pick));
  return {
    handler: `${{ flowgate: 'Flowgate', before: 'Flowgate before', handwritten: 'hand-written' }[first.side]}${first.processes > 1 ? ` ×${first.processes}` : ''}`,
    connections: first.connections, 'accepted/s': fmt(m((r) => r.acceptedPerS)), 'completed/s': fmt(m((r) => r.completedPerS)),
    'runs completed/s': rows.map((r) => r.completedPerS.toFixed(1)).join(' '),
    'ack p50 ms': fmt(m((r) => r.ackP50), 0), 'ack p99 ms': fmt(m((r) => r.ackP99), 0), 'e2c p50 ms': fmt(m((r) => r.e2cP50), 0), 'e2c p99 ms': fmt(m((r) => r.e2cP99), 0),
    'lost or unfinished at cap': rows.reduce((s, r) => s + r.lost, 0), duplicated: rows.reduce((s, r) => s + r.duplicated, 0),
    'peak RSS MB': fmt(Math.max(...rows.map((r) => r.peakRssMb)), 0), 'db commands/flow': fmt(m((r) => r.commandsPerFlow)),
    'db ms/flow': fmt(m((r) => r.commandMsPerFlow)), load: rows.map((r) => r.load.split(' ')[0]).join(' '),
  };
}

/** CPU seconds per completed flow by process, medians over the runs. */
function cpuTable(groups: Row[][]): Array<Record<string, string | number>> {
  return groups.map((rows) => {
    const first = rows[0] as Row;
    // The Flowgate (or baseline) processes together, then the services and the load generator.
    const serverCpu = (r: Row) => Object.entries(r.cpu).filter(([name]) => name.startsWith('server ')).reduce((sum, [, seconds]) => sum + seconds, 0);
    const others = Object.keys(first.cpu).filter((name) => !name.startsWith('server '));
    const perFlow = (r: Row, seconds: number) => (seconds * 1000) / Math.max(1, r.completed);
    return {
      handler: `${first.side}${first.processes > 1 ? ` ×${first.processes}` : ''} @${first.connections}`,
      'server processes CPU ms/flow': fmt(median(rows.map((r) => perFlow(r, serverCpu(r))))),
      ...Object.fromEntries(others.map((name) => [`${name} CPU ms/flow`, fmt(median(rows.map((r) => perFlow(r, r.cpu[name] ?? 0))))])),
      'wall ms/flow': fmt(median(rows.map((r) => (r.wallS * 1000) / Math.max(1, r.completed)))),
    };
  });
}

/**
 * The commands a flow costs, by collection, command and how it selects documents (median run at
 * the first connection count); commands rarer than one per 20 flows (start-up, index builds) are left out.
 */
function commandTable(row: Row): Array<Record<string, string | number>> {
  const flows = Math.max(1, row.completed);
  return Object.entries(row.commands).filter(([, c]) => c.count / flows >= 0.05).sort((a, b) => b[1].ms - a[1].ms).map(([key, c]) => ({
    'collection.command': key, 'per flow': fmt(c.count / Math.max(1, row.completed), 2), 'ms per flow': fmt(c.ms / Math.max(1, row.completed), 2), 'ms each': fmt(c.ms / Math.max(1, c.count), 2),
  }));
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const services = await startServices();
  // Interrupted: stop what this benchmark started (servers, FerretDB, Redis) before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stopStarted().then(() => services.stop()).finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(130);
    }));
  }
  const graph = new GraphApiDouble();
  await graph.start();
  const groups = new Map<string, Row[]>();
  const add = (row: Row) => {
    const key = `${row.side}/${row.processes}/${row.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  };
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const connections of CONNECTIONS) {
        add(await measure('flowgate', 1, connections, services, graph));
        if (COMPARE_ROOT && connections === CONNECTIONS[0]) add(await measure('before', 1, connections, services, graph));
        add(await measure('handwritten', 1, connections, services, graph));
        if (TWO_PROCESSES && connections === Math.max(...CONNECTIONS)) add(await measure('flowgate', 2, connections, services, graph));
      }
      graph.reset();
    }
    let profile: Array<Record<string, string | number>> = [];
    if (CPU_PROFILE) {
      const profileDir = join(dataDir, `profile-${randomUUID().slice(0, 6)}`);
      mkdirSync(profileDir, { recursive: true });
      await measure('flowgate', 1, Math.max(...CONNECTIONS), services, graph, profileDir);
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) profile = summariseCpuProfile(join(profileDir, file));
    }
    const soakRow = SOAK_S > 0 ? await soak(services, graph, SOAK_S) : null;
    const ordered = [...groups.values()];
    const summaries = ordered.map(summary);
    printTable(`STOP flow end to end (signed webhook → consent revoked + audit written + both events on a socket.io-client), ${REQUESTS} webhooks per run, median of ${RUNS} runs`, summaries);
    for (const connections of CONNECTIONS) {
      const flowgate = summaries.find((s) => s.handler === 'Flowgate' && s.connections === connections);
      const hand = summaries.find((s) => s.handler === 'hand-written' && s.connections === connections);
      if (flowgate && hand) console.log(`Flowgate / hand-written completed/s at ${connections} connections: ${((Number(flowgate['completed/s']) / Number(hand['completed/s'])) * 100).toFixed(0)}% (target ≥ 70%)`);
    }
    printTable('CPU per completed flow, by process (milliseconds of CPU time; the machine has 2 cores)', cpuTable(ordered));
    const reference = groups.get(`flowgate/1/${CONNECTIONS[0]}`);
    if (reference?.length) {
      const mid = [...reference].sort((a, b) => a.completedPerS - b.completedPerS)[Math.floor(reference.length / 2)] as Row;
      printTable(`MongoDB commands per Flowgate STOP flow (${mid.connections} connections; time as the driver saw it, queueing for the one connection excluded)`, commandTable(mid));
      const beforeReference = groups.get(`before/1/${CONNECTIONS[0]}`)?.[0];
      if (beforeReference) printTable('MongoDB commands per Flowgate-before STOP flow', commandTable(beforeReference));
      const handReference = groups.get(`handwritten/1/${CONNECTIONS[0]}`)?.[0];
      if (handReference) printTable('MongoDB commands per hand-written STOP flow', commandTable(handReference));
    }
    if (profile.length) printTable('CPU profile of one Flowgate process (self time by where the code lives)', profile);
    if (soakRow) printTable(`Memory soak: one Flowgate process, 10 connections for ${SOAK_S} s`, [soakRow]);
    recordFigures('stop-flow', [
      ...summaries.map((s) => ({ figure: `${s.handler} @${s.connections}: completed/s`, value: s['completed/s'] as number, detail: `accepted/s ${s['accepted/s']}, ack p99 ${s['ack p99 ms']} ms, unfinished ${s['lost or unfinished at cap']}, dup ${s.duplicated}, load ${s.load}` })),
      ...(soakRow ? [{ figure: `RSS growth over ${SOAK_S} s soak %`, value: soakRow['growth %'] as number, detail: `peak ${soakRow['peak RSS MB']} MB` }] : []),
    ]);
  } finally {
    await graph.stop();
    await services.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
