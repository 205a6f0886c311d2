/** Shared set-up of the backup tests: a server with the backup plugin and a private BACKUP_DIR. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BSON, type Db } from 'mongodb';
import { MongoConnection } from '../../../core/index.js';
import { ContentDigest } from '../../../plugins/backup/archive/codec.js';
import type { Manifest } from '../../../plugins/backup/archive/manifest.js';
import { BackupStoreToken, type BackupStore } from '../../../plugins/backup/storage/backup-store.js';
import { eventually, startTestServer, type TestServer, type TestServerOptions } from '../../helpers/test-host.js';

export const PROBE_PLUGIN = { from: './dist/tests/fixtures/plugins/backup-probe/index.js' };

export interface BackupTestServer extends TestServer {
  backupDir: string;
  db: Db;
}

export async function startBackupServer(label: string, options: TestServerOptions & { backupDir?: string } = {}): Promise<BackupTestServer> {
  const backupDir = options.backupDir ?? mkdtempSync(join(tmpdir(), `flowgate-backups-${label}-`));
  const t = await startTestServer({
    label,
    plugins: ['flow', 'http', 'schedule', 'hello', 'backup', PROBE_PLUGIN],
    ...options,
    pluginSettings: {
      ...(options.pluginSettings ?? {}),
      backup: { dir: backupDir, lockTtlMs: 2000, ...((options.pluginSettings?.backup as Record<string, unknown> | undefined) ?? {}) },
    },
  });
  const db = t.server.get(MongoConnection).connection.db as Db;
  const stop = t.stop.bind(t);
  // A folder this function made is removed with the server; one passed in belongs to the caller.
  const ownsDir = options.backupDir === undefined;
  return Object.assign(t, {
    backupDir,
    db,
    async stop() {
      await stop();
      if (ownsDir) rmSync(backupDir, { recursive: true, force: true });
    },
  });
}

/**
 * Every document of every collection (except Agenda's and other internals), as canonical Extended
 * JSON sorted by _id: equal snapshots mean equal documents with equal BSON types.
 */
/** Agenda's own collections: scheduler state, not data. */
export const SCHEDULER_COLLECTIONS = ['agendaJobs', 'agenda_logs'];

export async function snapshot(db: Db, skip: readonly string[] = SCHEDULER_COLLECTIONS): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name as string).filter((n) => !skip.includes(n)).sort();
  for (const name of names) {
    const docs = await db.collection(name).find({}, { promoteValues: false }).toArray();
    out[name] = docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false })).sort();
  }
  return out;
}

/** Waits until the engine has finished the workflow runs that `count` greetings started. */
export async function engineSettled(db: Db, count: number): Promise<void> {
  await eventually(async () => {
    const runs = await db.collection('executions').find({}, { projection: { status: 1 } }).toArray();
    return runs.length === count && runs.every((run) => ['succeeded', 'failed', 'cancelled'].includes(run.status as string));
  });
}

/** Empties every collection the server's models use, as a disaster would. */
export async function wipe(db: Db): Promise<void> {
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    if (!SCHEDULER_COLLECTIONS.includes(name as string)) await db.collection(name as string).deleteMany({});
  }
}

/** True when the server stores Decimal128 (MongoDB does; FerretDB v1 drops the connection). */
export async function supportsDecimal128(db: Db): Promise<boolean> {
  const probe = db.collection('decimal_probe');
  try {
    await probe.insertOne({ value: BSON.Decimal128.fromString('1.5') });
    return true;
  } catch {
    return false;
  } finally {
    await probe.drop().catch(() => false);
  }
}

/** Reads and rewrites a backup's manifest in place (to damage it, or to forge a consistent one). */
export function editManifest(backupDir: string, id: string, edit: (manifest: Manifest) => unknown): void {
  const path = join(backupDir, id, 'manifest.json');
  writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')) as Manifest)));
}

/** Rewrites one collection file from lines and updates its manifest entry so that every checksum agrees. */
export function forgeCollection(backupDir: string, id: string, collection: string, lines: string[]): void {
  editManifest(backupDir, id, (manifest) => {
    const entry = manifest.collections.find((c) => c.name === collection);
    if (!entry) throw new Error(`no collection ${collection} in ${id}`);
    const gz = gzipSync(lines.map((l) => `${l}\n`).join(''));
    writeFileSync(join(backupDir, id, entry.file), gz);
    const digest = new ContentDigest();
    for (const line of lines) digest.add(line);
    Object.assign(entry, { documents: lines.length, bytes: gz.length, sha256: createHash('sha256').update(gz).digest('hex'), contentDigest: digest.hex() });
    return manifest;
  });
}

export function collectionFile(backupDir: string, id: string, collection: string): string {
  const manifest = JSON.parse(readFileSync(join(backupDir, id, 'manifest.json'), 'utf8')) as Manifest;
  const entry = manifest.collections.find((c) => c.name === collection);
  if (!entry) throw new Error(`no collection ${collection} in ${id}`);
  return join(backupDir, id, entry.file);
}

export function readLinesOf(file: string): string[] {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter(Boolean);
}

/** A step of a server's backups or restores held until the test lets it go. */
export interface Hold {
  /** Resolves when an operation has reached the held step. */
  reached: Promise<void>;
  release(): void;
  /** Releases the step and stops holding it for later operations. */
  undo(): void;
}

function gate(): { reached: Promise<void>; arrive(): void; open: Promise<void>; release(): void } {
  let arrive!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => { arrive = resolve; });
  const open = new Promise<void>((resolve) => { release = resolve; });
  return { reached, arrive, open, release };
}

/** Holds every write into a backup draft of `t`: a backup stays mid-dump for as long as the test needs. */
export function holdBackupWrites(t: TestServer): Hold {
  const store = t.server.get<BackupStore>(BackupStoreToken);
  const begin = store.begin.bind(store);
  const g = gate();
  store.begin = async (id) => {
    const draft = await begin(id);
    return {
      ...draft,
      write(file) {
        const real = draft.write(file);
        return new Writable({
          write(chunk: Buffer, _encoding, callback) {
            g.arrive();
            void g.open.then(() => real.write(chunk, (error) => callback(error ?? null)));
          },
          final(callback) {
            real.once('error', callback);
            real.end(() => callback());
          },
          destroy(error, callback) {
            // The error reaches the backup through this stream; the file stream only closes.
            real.destroy();
            callback(error);
          },
        });
      },
    };
  };
  return { reached: g.reached, release: g.release, undo() { store.begin = begin; g.release(); } };
}

/** Holds a restore of `db` as it starts loading a collection, before it writes anything. */
export function holdRestoreLoads(db: Db): Hold {
  const createCollection = db.createCollection.bind(db);
  const g = gate();
  db.createCollection = (async (name: string, ...rest: unknown[]) => {
    if (name.startsWith('backup_restoring_')) {
      g.arrive();
      await g.open;
    }
    return (createCollection as (name: string, ...rest: unknown[]) => unknown)(name, ...rest);
  }) as Db['createCollection'];
  return { reached: g.reached, release: g.release, undo() { db.createCollection = createCollection; g.release(); } };
}
