/**
 * Backup and restore throughput and memory, at two sizes to show that memory does not grow with
 * the data. Each operation runs in a fresh child process (booted like `flowgate backup:create`),
 * so its peak RSS is the operation's own and not the seeding's.
 *
 *   npm run build && node dist/scripts/with-services.js -- node dist/bench/backup.js
 *   BENCH_SIZES=100000,1000000 (default) sets the document counts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient } from 'mongodb';
import { loadConfig } from '../core/config/load-config.js';
import { projectRoot } from '../core/paths.js';
import { FlowgateServer } from '../core/server.js';
import { BackupService } from '../plugins/backup/backup-service.js';
import { RestoreService } from '../plugins/backup/restore-service.js';
import { recordFigures } from './lib.js';

const PROBE_PLUGIN = { from: './dist/tests/fixtures/plugins/backup-probe/index.js' };
const SEED_BATCH = 5_000;

interface Measurement {
  operation: 'backup' | 'restore';
  documents: number;
  seconds: number;
  /** Uncompressed Extended JSON bytes moved. */
  bytes: number;
  archiveBytes: number;
  /** CPU time of the Flowgate process (user + system), not counting the database server's. */
  cpuSeconds: number;
  baselineRssMb: number;
  peakRssMb: number;
  id: string;
}

/** A message-like document of about 330 bytes of Extended JSON with several BSON types. */
function messageDocument(i: number) {
  return {
    _id: new BSON.ObjectId(),
    phone: `4915${String(100_000_000 + i)}`,
    direction: i % 3 === 0 ? 'inbound' : 'outbound',
    status: ['sent', 'delivered', 'read', 'failed'][i % 4],
    text: `Hello customer ${i}, your order ${i * 7} has shipped and will arrive on Tuesday.`,
    createdAt: new Date(1_767_225_600_000 + i * 1000),
    attempt: new BSON.Int32(i % 5),
    template: { name: 'order_shipped', language: 'en' },
  };
}

async function seed(uri: string, count: number): Promise<void> {
  const client = await MongoClient.connect(uri);
  try {
    const collection = client.db().collection('proberecords');
    await collection.drop().catch(() => false);
    for (let done = 0; done < count; done += SEED_BATCH) {
      await collection.insertMany(Array.from({ length: Math.min(SEED_BATCH, count - done) }, (_, k) => messageDocument(done + k)), { ordered: false });
    }
  } finally {
    await client.close();
  }
}

const megabytes = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Child process: boots like a CLI command, runs one operation, prints its measurement as JSON. */
async function worker(operation: 'backup' | 'restore', uri: string, backupDir: string, id?: string): Promise<void> {
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, MONGODB_URI: uri },
    overrides: { plugins: ['backup', PROBE_PLUGIN], pluginSettings: { backup: { dir: backupDir } }, scheduler: { enabled: false }, log: { level: 'error' } },
  });
  const server = new FlowgateServer(config);
  await server.start({ listen: false });
  try {
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    let started = process.hrtime.bigint();
    let cpu = process.cpuUsage();
    let result: Omit<Measurement, 'seconds' | 'cpuSeconds' | 'baselineRssMb' | 'peakRssMb' | 'operation'>;
    if (operation === 'backup') {
      const manifest = await server.get(BackupService).create({ trigger: 'cli', actor: null });
      result = { id: manifest.id, documents: manifest.totals.documents, bytes: sum(manifest.collections.map((c) => c.uncompressedBytes)), archiveBytes: manifest.totals.bytes };
    } else {
      const restores = server.get(RestoreService);
      // The dry run (a full verification) is part of every restore but timed on its own line.
      const plan = await restores.restore(id as string, { dryRun: true, actor: null });
      const verifySeconds = Number(process.hrtime.bigint() - started) / 1e9;
      process.stderr.write(`restore dry run (verification) of ${id}: ${verifySeconds.toFixed(1)} s\n`);
      started = process.hrtime.bigint();
      cpu = process.cpuUsage();
      await restores.restore(id as string, { dryRun: false, confirm: plan.confirmation, actor: null });
      const manifest = await server.get(BackupService).get(id as string);
      result = { id: manifest.id, documents: manifest.totals.documents, bytes: sum(manifest.collections.map((c) => c.uncompressedBytes)), archiveBytes: manifest.totals.bytes };
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const measurement: Measurement = { operation, seconds, cpuSeconds: (used.user + used.system) / 1e6, baselineRssMb: megabytes(baseline), peakRssMb: megabytes(peak), ...result };
    process.stdout.write(`${JSON.stringify(measurement)}\n`);
  } finally {
    await server.stop();
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function runWorker(args: string[]): Measurement {
  const output = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'worker', ...args], {
    cwd: projectRoot, env: { ...process.env, NODE_ENV: 'test' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20,
  });
  return JSON.parse(output.trim().split('\n').at(-1) as string) as Measurement;
}

async function main(): Promise<void> {
  const base = process.env.MONGODB_URI;
  if (!base) throw new Error('Run through scripts/with-services.js (or set MONGODB_URI and REDIS_URL)');
  const sizes = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
  console.log('| operation | documents | seconds | documents/s | MB/s (Extended JSON) | archive MB | Flowgate CPU s | RSS before MB | peak RSS MB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  // Each row is printed as soon as it is measured: a long run that fails halfway keeps what it has.
  const print = (r: Measurement) => {
    recordFigures('backup', [{ figure: `${r.operation} documents/s at ${r.documents.toLocaleString('en')}`, value: Math.round(r.documents / r.seconds), detail: `peak RSS ${r.peakRssMb} MB (before ${r.baselineRssMb} MB)` }]);
    console.log(`| ${r.operation} | ${r.documents.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${Math.round(r.documents / r.seconds).toLocaleString('en')} | ${(r.bytes / 1024 / 1024 / r.seconds).toFixed(1)} | ${megabytes(r.archiveBytes)} | ${r.cpuSeconds.toFixed(1)} | ${r.baselineRssMb} | ${r.peakRssMb} |`);
  };
  for (const size of sizes) {
    const uri = new URL(base);
    uri.pathname = `/bench_backup_${size}`;
    const backupDir = mkdtempSync(join(tmpdir(), 'flowgate-bench-backup-'));
    try {
      console.error(`seeding ${size.toLocaleString('en')} documents…`);
      await seed(uri.toString(), size);
      const backup = runWorker(['backup', uri.toString(), backupDir]);
      print(backup);
      print(runWorker(['restore', uri.toString(), backupDir, backup.id]));
      const client = await MongoClient.connect(uri.toString());
      await client.db().dropDatabase();
      await client.close();
    } finally {
      rmSync(backupDir, { recursive: true, force: true });
    }
  }
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'worker') await worker(rest[0] as 'backup' | 'restore', rest[1] as string, rest[2] as string, rest[3]);
else await main();
