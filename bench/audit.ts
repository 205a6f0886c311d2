/**
 * Audit log benchmark. Run with services: `node dist/scripts/with-services.js -- node dist/bench/audit.js`.
 *   1. Entries written per second through the AuditLog service (many concurrent writers), while
 *      the sealer runs every second, as the `audit.seal` job would.
 *   2. Time to verify a chain of BENCH_AUDIT_ENTRIES entries (default 1,000,000). Writing that
 *      many through the service would take long on FerretDB, so they are generated straight
 *      into the collections, with their digests built by the same chain code the sealer uses.
 * Environment: BENCH_AUDIT_SECONDS (default 10), BENCH_AUDIT_WRITERS (16), BENCH_AUDIT_ENTRIES.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoConnection } from '../core/index.js';
import { AuditLog } from '../plugins/audit/public.js';
import { DigestSealer } from '../plugins/audit/sealer.js';
import { ChainVerification } from '../plugins/audit/verification.js';
import { digestHash, entryHash, GENESIS_ANCHOR, signDigestHash, type ChainEntry } from '../plugins/audit/chain.js';
import { verifyExportFile } from '../plugins/audit/offline.js';
import { bootInProcess, recordFigures } from './lib.js';

const seconds = Number(process.env.BENCH_AUDIT_SECONDS ?? 10);
const writers = Number(process.env.BENCH_AUDIT_WRITERS ?? 16);
const chainSize = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const SIGNING_KEY = 's'.repeat(32);
const auditPlugin = { plugins: ['audit'], pluginSettings: { audit: { pseudonymKey: 'p'.repeat(32), signingKey: SIGNING_KEY, sealDelayMs: 1000 } } };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function writeThroughput(): Promise<Record<string, string>> {
  const server = await bootInProcess(`bench_audit_write_${Date.now()}`, auditPlugin);
  const log = server.get(AuditLog);
  const sealer = server.get(DigestSealer);
  let sealed = 0;
  let sealing = true;
  const sealLoop = (async () => {
    while (sealing) {
      sealed += await sealer.seal();
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, async (_, writer) => {
    while (Date.now() < deadline) {
      const t0 = performance.now();
      await log.record({
        actor: { kind: 'user', id: `bench-${writer}`, role: 'agent' }, action: 'POST /api/messages', resource: { type: 'messages', id: randomUUID() },
        subject: { kind: 'phone', value: '+4915112345678' }, after: { template: 'order_update', to: '+4915112345678', variables: { order: 'A-1042' } }, status: 201,
        ip: '127.0.0.1', requestId: randomUUID(),
      });
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  sealing = false;
  await sealLoop;
  await new Promise((r) => setTimeout(r, 1100));
  sealed += await sealer.seal();
  const report = await server.get(ChainVerification).verify();
  await server.stop();
  latencies.sort((a, b) => a - b);
  return {
    'entries written': String(latencies.length),
    'writers (concurrent)': String(writers),
    'entries/s with sealing running': (latencies.length / elapsed).toFixed(0),
    'write latency p50 / p95 (ms)': `${percentile(latencies, 0.5).toFixed(1)} / ${percentile(latencies, 0.95).toFixed(1)}`,
    'digests sealed': String(sealed),
    'chain verifies afterwards': String(report.ok && report.entriesChecked === latencies.length),
  };
}

async function verifyLargeChain(): Promise<Record<string, string>> {
  const server = await bootInProcess(`bench_audit_verify_${Date.now()}`, auditPlugin);
  const db = server.get(MongoConnection).connection.db;
  if (!db) throw new Error('not connected');
  const entries = db.collection('audit_entries');
  const digests = db.collection('audit_digests');
  const perDigest = 1000;
  const key = Buffer.from(SIGNING_KEY);
  let previous = GENESIS_ANCHOR.digestHash;
  const base = Date.now() - chainSize;
  // The same chain as an export file, to time the verification itself without the database.
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-'));
  const exportFile = join(dir, 'export.ndjson');
  const file = createWriteStream(exportFile);
  const write = async (line: string) => { if (!file.write(line)) await once(file, 'drain'); };
  await write(`${JSON.stringify({ type: 'header', format: 'flowgate-audit-export', version: 1, anchor: GENESIS_ANCHOR, exportedAt: new Date().toISOString() })}\n`);
  const digestLines: string[] = [];
  const generateStarted = performance.now();
  for (let digestNo = 1, seq = 1; seq <= chainSize; digestNo++) {
    const batch: ChainEntry[] = [];
    for (let i = 0; i < perDigest && seq <= chainSize; i++, seq++) {
      batch.push({
        _id: `e${seq}`, seq, at: new Date(base + seq), actor: { kind: 'user', id: `u${seq % 50}`, role: 'agent' }, action: 'POST /api/messages',
        resource: { type: 'messages', id: String(seq) }, summary: { after: { template: 'order_update' } }, status: 201, ip: '127.0.0.1', requestId: `r${seq}`,
      });
    }
    const first = batch[0] as ChainEntry;
    const last = batch.at(-1) as ChainEntry;
    const body = {
      digestNo, firstSeq: first.seq, lastSeq: last.seq, seqs: batch.map((e) => e.seq), hashes: batch.map(entryHash),
      firstAt: first.at as Date, lastAt: last.at as Date, previousDigestHash: previous, sealedAt: new Date(),
    };
    const hash = digestHash(body);
    await entries.insertMany(batch as never[], { ordered: false });
    const digest = { ...body, digestHash: hash, signature: signDigestHash(key, hash) };
    await digests.insertOne({ ...digest });
    for (const entry of batch) await write(`${JSON.stringify({ type: 'entry', entry })}\n`);
    digestLines.push(`${JSON.stringify({ type: 'digest', digest })}\n`);
    previous = hash;
  }
  for (const line of digestLines) await write(line);
  file.end();
  await once(file, 'finish');
  const generateSeconds = (performance.now() - generateStarted) / 1000;
  const verifyStarted = performance.now();
  const report = await server.get(ChainVerification).verify();
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  const offlineStarted = performance.now();
  const offline = await verifyExportFile(exportFile, key);
  const offlineSeconds = (performance.now() - offlineStarted) / 1000;
  rmSync(dir, { recursive: true, force: true });
  await db.dropDatabase();
  await server.stop();
  return {
    'entries in the chain (generated directly)': chainSize.toLocaleString('en'),
    'digests (1,000 entries each)': String(Math.ceil(chainSize / perDigest)),
    'time to generate (s)': generateSeconds.toFixed(1),
    'time to verify in the database (s)': verifySeconds.toFixed(1),
    'verified entries/s (database)': (chainSize / verifySeconds).toFixed(0),
    'verdict (database)': report.ok && report.entriesChecked === chainSize ? 'intact' : `NOT OK ${JSON.stringify(report).slice(0, 200)}`,
    'time to verify the same chain as an export file (s)': offlineSeconds.toFixed(1),
    'verified entries/s (export file)': (chainSize / offlineSeconds).toFixed(0),
    'verdict (export file)': offline.ok && offline.entriesChecked === chainSize ? 'intact' : 'NOT OK',
  };
}

function table(title: string, rows: Record<string, string>): string {
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  return [`| ${title.padEnd(width)} | value |`, `| ${'-'.repeat(width)} | ----- |`, ...Object.entries(rows).map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`)].join('\n');
}

const writes = await writeThroughput();
console.log(table('Audit writes', writes));
console.log();
const verification = await verifyLargeChain();
console.log(table('Audit verification', verification));
recordFigures('audit', [
  { figure: 'audit entries/s with sealing running', value: Number(writes['entries/s with sealing running']), detail: Object.entries(writes).filter(([k]) => /latency|verifies/.test(k)).map(([k, v]) => `${k} ${v}`).join(', ') },
  ...Object.entries(verification).filter(([k]) => k.startsWith('verified entries/s')).map(([k, v]) => ({ figure: `audit ${k}`, value: Number(v) })),
]);
