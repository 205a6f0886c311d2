/**
 * Restores an archive into the current database or another one. Order of work, so that a
 * failure at any point before the swap leaves the target exactly as it was:
 *   1. verify the whole archive (manifest and its signature when a signing key is set, sizes,
 *      SHA-256, every line, counts, digests);
 *   2. the caller must present the dry run's confirmation for this archive and target;
 *   3. (current database) enter maintenance: Agenda and the engine pause on every process;
 *   4. load each collection into a temporary collection, re-checking the file's SHA-256 while
 *      reading, then read each one back: count and content digest must match the manifest;
 *      (current database) build the current models' indexes on it, which can fail on data that
 *      an older version allowed (a duplicate of a key that is unique now);
 *   5. swap by renames (FerretDB v1 has `renameCollection` but not `dropTarget`): the live
 *      collection is renamed aside, the loaded one takes its name; any failure renames back;
 *   6. count again, drop the set-aside collections, leave maintenance.
 * A restore that loses the backup lock before step 5 stops and rolls back (another operation may
 * have started); one that loses it during the swap finishes and logs that it did.
 * Only collections that this server backs up (models registered with `backup: true`) are ever
 * written: the archive is untrusted input, and its checksums only prove it is self-consistent.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db, Document } from 'mongodb';
import { inject, injectable, HttpError, LoggerToken, Maintenance, MongoConnection, notFound, type Logger, type ModelDefinition, type Principal } from '../../core/index.js';
import { ContentDigest, encodeDocument } from './archive/codec.js';
import { MANIFEST_FILE, type CollectionEntry, type Manifest } from './archive/manifest.js';
import { checkEntry, invalid, readCollection, verifyArchive } from './archive/verifier.js';
import { BackupAnnouncer, type ProgressReport } from './announcer.js';
import { backedUpCollections } from './backed-up.js';
import { connectedDb } from './connected-db.js';
import { BackupConfigToken, type BackupConfig } from './config.js';
import { OperationLock, type HeldLock } from './operation-lock.js';
import type { RestoreResult } from './schemas.js';
import { BackupStoreToken, type BackupStore } from './storage/backup-store.js';

const LOADING_PREFIX = 'backup_restoring_';
const ASIDE_PREFIX = 'backup_replaced_';

export interface RestoreOptions {
  /** Another database on the same server; the current one when absent. */
  targetDatabase?: string;
  dryRun: boolean;
  /** The dry run's `confirmation`; required when `dryRun` is false. */
  confirm?: string;
  actor: Principal | null;
  onProgress?: (report: ProgressReport) => void;
}

interface Swap {
  name: string;
  loading: string;
  aside: string | null;
  swapped: boolean;
}

@injectable()
export class RestoreService {
  constructor(
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(BackupStoreToken) private readonly store: BackupStore,
    @inject(OperationLock) private readonly lock: OperationLock,
    @inject(Maintenance) private readonly maintenance: Maintenance,
    @inject(BackupAnnouncer) private readonly announcer: BackupAnnouncer,
    @inject(BackupConfigToken) private readonly config: BackupConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  private get currentDb(): Db {
    return connectedDb(this.mongo);
  }

  /**
   * A dry run (the default) verifies the archive and says what a restore would replace; a real
   * run needs the dry run's confirmation. Throws 404, 409 BACKUP_IN_PROGRESS, 422
   * BACKUP_ARCHIVE_INVALID (also for a collection this server does not back up) /
   * BACKUP_ARCHIVE_CORRUPT, 428 BACKUP_CONFIRMATION_REQUIRED, or 500 BACKUP_RESTORE_FAILED (the
   * target is left as it was, unless the message says the data was replaced).
   */
  async restore(id: string, options: RestoreOptions): Promise<RestoreResult> {
    if (!(await this.store.has(id))) throw notFound('Backup', id);
    const target = options.targetDatabase ?? this.currentDb.databaseName;
    const isCurrent = target === this.currentDb.databaseName;
    const held = await this.lock.acquire(`restore ${id}`, { maintenance: isCurrent && !options.dryRun });
    const started = Date.now();
    const db = isCurrent ? this.currentDb : this.mongo.connection.getClient().db(target);
    let replaced = false;
    let report: ProgressReport = { id, collection: '', documents: 0, totalDocuments: 0, bytes: 0, phase: 'verify' };
    const progress = (update: Partial<ProgressReport>, force = false) => {
      report = { ...report, ...update };
      options.onProgress?.(report);
      if (!options.dryRun) this.announcer.progress('restore', report, force);
    };
    try {
      const manifest = await verifyArchive(this.store, id, this.config.signingKey, (checked) => progress({ ...checked, phase: 'verify' }));
      const models = backedUpCollections(this.mongo);
      const foreign = manifest.collections.map((c) => c.name).filter((name) => !models.has(name));
      if (foreign.length) {
        throw invalid(id, `it contains collections that this server does not back up: ${foreign.join(', ')} (only collections of models registered with \`backup: true\` are restored; is the plugin that owns them loaded?); nothing was changed`, { collections: foreign });
      }
      const plan = await this.plan(manifest, db, isCurrent);
      if (options.dryRun) return plan;
      if (options.confirm !== plan.confirmation) {
        throw new HttpError(428, 'BACKUP_CONFIRMATION_REQUIRED', 'Run the restore as a dry run first and pass its `confirmation` as `confirm`', { confirmation: 'see the dry run' });
      }
      held.signal.throwIfAborted();
      this.announcer.started('restore', id, { targetDatabase: target, currentDatabase: isCurrent });
      if (isCurrent) await this.maintenance.enter(`restoring backup ${id}`);
      try {
        // The current models' indexes go onto the loaded copies before the swap, so that data
        // they do not accept fails the restore while the live collections are still untouched.
        await this.replaceCollections(id, manifest, db, isCurrent ? models : null, held, (update, force) => progress({ ...update, totalDocuments: manifest.totals.documents }, force));
        replaced = true;
        if (held.signal.aborted) {
          this.logger.error('restore finished its swap after losing the backup lock: another backup or restore may have run alongside it; check the data and any backup taken meanwhile', { id, targetDatabase: target });
        }
      } finally {
        if (isCurrent) await this.leaveMaintenance(held, id);
      }
      const result: RestoreResult = { ...plan, dryRun: false, durationMs: Date.now() - started, verified: true };
      delete result.confirmation;
      this.announcer.succeeded('restore', id, options.actor, { targetDatabase: target, documents: manifest.totals.documents, durationMs: result.durationMs });
      this.logger.warn('backup restored', { id, targetDatabase: target, documents: manifest.totals.documents, durationMs: result.durationMs });
      return result;
    } catch (thrown) {
      const error = thrown as Error;
      const failure = error instanceof HttpError ? error : new HttpError(500, 'BACKUP_RESTORE_FAILED', replaced
        ? `Restore of ${id} replaced the data but did not finish: ${error.message}`
        : `Restore of ${id} failed and was rolled back, the data is as it was: ${error.message}`);
      if (!options.dryRun) {
        this.announcer.failed('restore', id, options.actor, { code: failure.code, message: failure.message });
        this.logger.error('restore failed', { id, targetDatabase: target, error: error.message });
      }
      throw failure;
    } finally {
      await held.release();
    }
  }

  /**
   * A restore that lost the lock may have been followed by another restore of this database,
   * which turned maintenance mode on for itself and turns it off when it ends.
   */
  private async leaveMaintenance(held: HeldLock, id: string): Promise<void> {
    if (held.signal.aborted && await this.lock.heldByMaintenance()) {
      this.logger.warn('restore that lost the backup lock leaves maintenance mode to the restore now holding it', { id });
      return;
    }
    await this.maintenance.exit();
  }

  private async plan(manifest: Manifest, db: Db, isCurrent: boolean): Promise<RestoreResult> {
    const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name as string));
    const collections: RestoreResult['collections'] = [];
    for (const entry of manifest.collections) {
      const present = existing.has(entry.name);
      collections.push({
        name: entry.name,
        archiveDocuments: entry.documents,
        // An estimate (collection metadata): counting a large collection on FerretDB takes seconds.
        currentDocuments: present ? await db.collection(entry.name).estimatedDocumentCount() : 0,
        action: present ? 'replace' : 'create',
      });
    }
    const inArchive = new Set(manifest.collections.map((c) => c.name));
    const untouched = [...existing].filter((name) => !inArchive.has(name) && !name.startsWith('system.')).sort();
    // Bound to this archive's exact manifest and this target: a confirmation cannot be reused elsewhere.
    const confirmation = createHash('sha256').update(JSON.stringify(manifest)).update(MANIFEST_FILE).update(db.databaseName).digest('hex').slice(0, 32);
    return {
      dryRun: true, backupId: manifest.id, targetDatabase: db.databaseName, currentDatabase: isCurrent,
      collections, untouched, documents: manifest.totals.documents, confirmation,
    };
  }

  /** `models`: whose indexes to build on each loaded collection (by name), or null to build none. */
  private async replaceCollections(
    id: string,
    manifest: Manifest,
    db: Db,
    models: ReadonlyMap<string, Array<ModelDefinition<unknown>>> | null,
    held: HeldLock,
    progress: (update: Partial<ProgressReport>, force?: boolean) => void,
  ): Promise<void> {
    const run = randomBytes(3).toString('hex');
    await this.dropLeftoverLoads(db);
    const swaps: Swap[] = manifest.collections.map((entry, index) => ({ name: entry.name, loading: `${LOADING_PREFIX}${run}_${index}`, aside: null, swapped: false }));
    try {
      let done = 0;
      for (const [index, entry] of manifest.collections.entries()) {
        const swap = swaps[index] as Swap;
        await this.load(id, entry, db, swap.loading, held.signal, (documents) => progress({ collection: entry.name, documents: done + documents, phase: 'load' }));
        progress({ collection: entry.name, documents: done + entry.documents, phase: 'check' }, true);
        await this.checkLoaded(entry, db, swap.loading);
        for (const definition of models?.get(entry.name) ?? []) await this.buildIndexes(definition, swap.loading);
        done += entry.documents;
      }
      // The swap is the point of no return: it starts only while the lock is still held.
      await held.confirm();
    } catch (error) {
      await this.dropAll(db, swaps.map((s) => s.loading));
      throw error;
    }
    progress({ phase: 'swap' }, true);
    const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name as string));
    try {
      for (const swap of swaps) {
        if (existing.has(swap.name)) {
          swap.aside = `${ASIDE_PREFIX}${run}_${swaps.indexOf(swap)}`;
          await db.renameCollection(swap.name, swap.aside);
        }
        await db.renameCollection(swap.loading, swap.name);
        swap.swapped = true;
      }
      for (const entry of manifest.collections) {
        // The loaded copy was read back in full before the swap; this checks each name now points at it.
        const count = await db.collection(entry.name).estimatedDocumentCount();
        if (count !== entry.documents) throw new Error(`collection ${entry.name} holds ${count} documents after the swap, the archive ${entry.documents}`);
      }
    } catch (error) {
      await this.rollBack(db, swaps);
      throw error;
    }
    await this.dropAll(db, swaps.map((s) => s.aside).filter((name): name is string => name !== null));
  }

  /** Inserts one collection file into `into`, in batches, checking the file's SHA-256 as it goes. */
  private async load(id: string, entry: CollectionEntry, db: Db, into: string, signal: AbortSignal, progress: (documents: number) => void): Promise<void> {
    const collection = db.collection(into);
    await db.createCollection(into);
    let batch: Document[] = [];
    const reading = await readCollection(this.store, id, entry, async (document, count) => {
      batch.push(document);
      if (batch.length >= this.config.batchSize) {
        signal.throwIfAborted();
        await collection.insertMany(batch, { ordered: true });
        batch = [];
        progress(count);
      }
    });
    if (batch.length) await collection.insertMany(batch, { ordered: true });
    // The file was verified before; this catches it changing between verification and loading.
    checkEntry(id, entry, reading);
    for (const index of entry.indexes) {
      const { key, name, ...options } = index as { key: Record<string, 1 | -1>; name: string } & Record<string, unknown>;
      await collection.createIndex(key, { ...options, name });
    }
  }

  /**
   * Builds a model's indexes on a loaded collection, through a short-lived model bound to it so
   * that mongoose derives the indexes exactly as it does for the live collection at startup.
   */
  private async buildIndexes(definition: ModelDefinition<unknown>, collection: string): Promise<void> {
    const connection = this.mongo.connection;
    const staged = connection.model(`${collection}:${definition.name}`, definition.schema, collection);
    try {
      await staged.createIndexes();
    } catch (error) {
      throw new Error(`the archive's data does not fit the indexes of model ${definition.name}: ${(error as Error).message}`);
    } finally {
      connection.deleteModel(staged.modelName);
    }
  }

  /** Reads the loaded collection back: its count and content digest must match the archive. */
  private async checkLoaded(entry: CollectionEntry, db: Db, name: string): Promise<void> {
    const digest = new ContentDigest();
    let documents = 0;
    for await (const document of db.collection(name).find({}, { promoteValues: false, batchSize: this.config.batchSize })) {
      digest.add(encodeDocument(document));
      documents++;
    }
    if (documents !== entry.documents || digest.hex() !== entry.contentDigest) {
      throw new Error(`collection ${entry.name} reads back ${documents} documents${digest.hex() === entry.contentDigest ? '' : ' with a different content digest'} after loading (archive: ${entry.documents}); the database may not store every value of it`);
    }
  }

  private async rollBack(db: Db, swaps: Swap[]): Promise<void> {
    for (const swap of [...swaps].reverse()) {
      try {
        if (swap.swapped) await db.renameCollection(swap.name, swap.loading);
        if (swap.aside) await db.renameCollection(swap.aside, swap.name);
      } catch (error) {
        this.logger.error('restore rollback could not rename a collection back; recover it by hand', { collection: swap.name, aside: swap.aside, error: (error as Error).message });
      }
    }
    await this.dropAll(db, swaps.map((s) => s.loading));
  }

  /** Loads left by a restore that died before its swap: only ever partial copies, safe to drop. */
  private async dropLeftoverLoads(db: Db): Promise<void> {
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name as string);
    const aside = names.filter((name) => name.startsWith(ASIDE_PREFIX));
    if (aside.length) this.logger.warn('collections set aside by an interrupted restore are kept for manual recovery', { collections: aside });
    await this.dropAll(db, names.filter((name) => name.startsWith(LOADING_PREFIX)));
  }

  private async dropAll(db: Db, names: string[]): Promise<void> {
    for (const name of names) await db.dropCollection(name).catch(() => false);
  }
}
