/**
 * Makes archives: every collection whose model is registered with `backup: true` (so a new
 * plugin's data is included without anyone listing it), streamed cursor → Extended JSON lines →
 * gzip → store with constant memory, then a manifest, then retention.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Db } from 'mongodb';
import { inject, injectable, coreVersion, HttpError, LoggerToken, MongoConnection, notFound, type Logger, type Principal } from '../../core/index.js';
import { ContentDigest, encodeDocument } from './archive/codec.js';
import { ARCHIVE_FORMAT, ARCHIVE_FORMAT_VERSION, manifestSignature, type CollectionEntry, type Manifest } from './archive/manifest.js';
import { readManifest } from './archive/verifier.js';
import { BackupAnnouncer, type ProgressReport } from './announcer.js';
import { backedUpCollections } from './backed-up.js';
import { connectedDb } from './connected-db.js';
import { BackupConfigToken, type BackupConfig } from './config.js';
import { OperationLock } from './operation-lock.js';
import { BackupSchedule } from './schedule.js';
import { BackupStoreToken, type ArchiveDraft, type BackupStore } from './storage/backup-store.js';

const CHUNK_CHARS = 64 * 1024;

export interface BackupOptions {
  trigger: Manifest['trigger'];
  actor: Principal | null;
  /** Called as documents are written, for the CLI's progress bar. */
  onProgress?: (report: ProgressReport) => void;
}

/** A backup id that sorts by time: `20261126T070230123Z-a1b2c3`. */
export function newBackupId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(3).toString('hex')}`;
}

@injectable()
export class BackupService {
  constructor(
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(BackupStoreToken) private readonly store: BackupStore,
    @inject(OperationLock) private readonly lock: OperationLock,
    @inject(BackupSchedule) private readonly schedule: BackupSchedule,
    @inject(BackupAnnouncer) private readonly announcer: BackupAnnouncer,
    @inject(BackupConfigToken) private readonly config: BackupConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  private get db(): Db {
    return connectedDb(this.mongo);
  }

  /** The collections a backup takes: those of models registered with `backup: true`. */
  collections(): Array<{ name: string; model: string }> {
    return [...backedUpCollections(this.mongo)]
      .map(([name, models]) => ({ name, model: models.map((m) => m.name).join(', ') }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Backs up now and returns the committed manifest. Throws 409 BACKUP_IN_PROGRESS while another
   * backup or restore runs, 500 BACKUP_FAILED when writing fails or the lock is lost midway
   * (nothing is left listed).
   */
  async create(options: BackupOptions): Promise<Manifest> {
    const id = newBackupId();
    const held = await this.lock.acquire(`backup ${id}`);
    const startedAt = new Date();
    try {
      const drafts = await this.store.removeDrafts();
      if (drafts) this.logger.warn('removed unfinished backup drafts left by an interrupted backup', { drafts });
      const collections = this.collections();
      const totalDocuments = (await Promise.all(collections.map((c) => this.db.collection(c.name).estimatedDocumentCount()))).reduce((a, b) => a + b, 0);
      this.announcer.started('backup', id, { trigger: options.trigger, collections: collections.map((c) => c.name), totalDocuments });
      const draft = await this.store.begin(id);
      let manifest: Manifest;
      try {
        const entries: CollectionEntry[] = [];
        const done = { documents: 0 };
        for (const [index, collection] of collections.entries()) {
          entries.push(await this.dump(draft, index, collection, held.signal, (documents, bytes, force) => {
            const report: ProgressReport = { id, collection: collection.name, documents: done.documents + documents, totalDocuments, bytes, phase: 'dump' };
            options.onProgress?.(report);
            this.announcer.progress('backup', report, force);
          }));
          done.documents += entries.at(-1)?.documents ?? 0;
        }
        const finishedAt = new Date();
        const unsigned: Manifest = {
          format: ARCHIVE_FORMAT,
          formatVersion: ARCHIVE_FORMAT_VERSION,
          id,
          app: { name: 'flowgate', version: coreVersion },
          database: this.db.databaseName,
          trigger: options.trigger,
          startedAt: startedAt.toISOString(),
          finishedAt: finishedAt.toISOString(),
          durationMs: finishedAt.getTime() - startedAt.getTime(),
          collections: entries,
          totals: { documents: done.documents, bytes: entries.reduce((sum, e) => sum + e.bytes, 0) },
        };
        const key = this.config.signingKey;
        manifest = key === undefined ? unsigned : { ...unsigned, signature: manifestSignature(unsigned, key) };
        // An archive read while another operation (a restore's swap) may have run is not listed.
        await held.confirm();
        await draft.commit(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
      } catch (error) {
        await draft.abort().catch(() => undefined);
        throw error;
      }
      const removed = await this.applyRetention(id);
      this.announcer.succeeded('backup', id, options.actor, { trigger: options.trigger, documents: manifest.totals.documents, bytes: manifest.totals.bytes, durationMs: manifest.durationMs, removed });
      this.logger.info('backup completed', { id, documents: manifest.totals.documents, bytes: manifest.totals.bytes, durationMs: manifest.durationMs, removed });
      return manifest;
    } catch (thrown) {
      // A dump cut short by the lost lock fails with a bare AbortError; the lost lock is the reason.
      const error = (held.signal.aborted && (thrown as Error).name === 'AbortError' ? held.signal.reason : thrown) as Error;
      const failure = error instanceof HttpError && error.code === 'BACKUP_IN_PROGRESS'
        ? error
        : new HttpError(500, 'BACKUP_FAILED', `Backup ${id} failed: ${error.message}`);
      this.announcer.failed('backup', id, options.actor, { code: failure.code, message: failure.message });
      this.logger.error('backup failed', { id, error: error.message });
      throw failure;
    } finally {
      await held.release();
    }
  }

  /** Streams one collection into one gzip file of the draft. */
  private async dump(
    draft: ArchiveDraft,
    index: number,
    collection: { name: string; model: string },
    signal: AbortSignal,
    progress: (documents: number, bytes: number, force: boolean) => void,
  ): Promise<CollectionEntry> {
    const file = `${String(index + 1).padStart(3, '0')}-${collection.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80)}.ndjson.gz`;
    const native = this.db.collection(collection.name);
    const indexes = await native.listIndexes().toArray().catch(() => []);
    // promoteValues: false keeps Int32/Double/Long distinct, so Extended JSON records the exact types.
    const cursor = native.find({}, { promoteValues: false, batchSize: this.config.batchSize });
    const digest = new ContentDigest();
    const sha256 = createHash('sha256');
    let documents = 0;
    let uncompressedBytes = 0;
    let bytes = 0;
    async function* lines(): AsyncGenerator<string> {
      let chunk = '';
      for await (const document of cursor) {
        const line = encodeDocument(document);
        digest.add(line);
        documents++;
        chunk += `${line}\n`;
        if (chunk.length >= CHUNK_CHARS) {
          uncompressedBytes += Buffer.byteLength(chunk);
          yield chunk;
          chunk = '';
          progress(documents, uncompressedBytes, false);
        }
      }
      if (chunk) {
        uncompressedBytes += Buffer.byteLength(chunk);
        yield chunk;
      }
    }
    const measure = new Transform({
      transform(data: Buffer, _encoding, callback) {
        sha256.update(data);
        bytes += data.length;
        callback(null, data);
      },
    });
    try {
      await pipeline(lines, createGzip(), measure, draft.write(file), { signal });
    } finally {
      await cursor.close();
    }
    progress(documents, uncompressedBytes, true);
    return {
      name: collection.name,
      model: collection.model,
      file,
      documents,
      bytes,
      uncompressedBytes,
      sha256: sha256.digest('hex'),
      contentDigest: digest.hex(),
      indexes: indexes.filter((i) => i.name !== '_id_').map(({ v: _v, ns: _ns, ...rest }) => rest as CollectionEntry['indexes'][number]),
    };
  }

  /** Deletes the oldest archives beyond the schedule's `keepLast`; never `justMade`. */
  private async applyRetention(justMade: string): Promise<string[]> {
    const keep = await this.schedule.keepLast();
    if (!keep) return [];
    const doomed = (await this.store.list()).filter((id) => id !== justMade).slice(Math.max(0, keep - 1));
    for (const id of doomed) await this.store.remove(id);
    if (doomed.length) this.logger.info('old backups removed by retention', { keepLast: keep, removed: doomed });
    return doomed;
  }

  /** Committed archives, newest first, from `cursor` (exclusive). */
  async list(limit: number, cursor?: string): Promise<{ items: Manifest[]; nextCursor?: string }> {
    const ids = (await this.store.list()).filter((id) => !cursor || id < cursor);
    const page = ids.slice(0, limit);
    const items: Manifest[] = [];
    for (const id of page) {
      const manifest = await readManifest(this.store, id).catch((error: Error) => {
        this.logger.warn('archive with an unreadable manifest left out of the list', { id, error: error.message });
        return null;
      });
      if (manifest) items.push(manifest);
    }
    return { items, ...(ids.length > limit && page.length ? { nextCursor: page.at(-1) } : {}) };
  }

  /** The manifest of one archive; 404 when there is none, 422 when it is not a valid manifest. */
  async get(id: string): Promise<Manifest> {
    if (!(await this.store.has(id))) throw notFound('Backup', id);
    return readManifest(this.store, id);
  }
}
