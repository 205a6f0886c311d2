/**
 * Checks an archive completely before anything reads it into a database: the manifest is a
 * Flowgate manifest for this id, every file exists with the recorded size and SHA-256, and every
 * line is an Extended JSON document, as many as recorded, with the recorded content digest. A
 * truncated, modified or foreign archive fails here with 422 and a message naming the problem.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createAjv, describeErrors, HttpError } from '../../../core/index.js';
import type { BackupStore } from '../storage/backup-store.js';
import { ContentDigest, decodeLine, readLines } from './codec.js';
import { ARCHIVE_FORMAT, MANIFEST_FILE, manifestSchema, manifestSignature, type CollectionEntry, type Manifest } from './manifest.js';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const validateManifest = createAjv().compile(manifestSchema);

export const invalid = (id: string, problem: string, details?: unknown) =>
  new HttpError(422, 'BACKUP_ARCHIVE_INVALID', `Backup ${id} is not a usable Flowgate archive: ${problem}`, details);
export const corrupt = (id: string, problem: string, details?: unknown) =>
  new HttpError(422, 'BACKUP_ARCHIVE_CORRUPT', `Backup ${id} is damaged: ${problem}; nothing was changed`, details);

export async function readManifest(store: BackupStore, id: string): Promise<Manifest> {
  const file = await store.read(id, MANIFEST_FILE);
  if (!file) throw invalid(id, 'it has no manifest.json');
  if (file.size > MAX_MANIFEST_BYTES) {
    file.stream.destroy();
    throw invalid(id, 'its manifest is too large');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of file.stream) chunks.push(chunk as Buffer);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw invalid(id, 'manifest.json is not JSON');
  }
  if ((parsed as { format?: unknown } | null)?.format !== ARCHIVE_FORMAT) throw invalid(id, `manifest.json does not describe a ${ARCHIVE_FORMAT} archive`);
  if (!validateManifest(parsed)) throw invalid(id, 'manifest.json does not match the archive format', describeErrors(validateManifest.errors, 'manifest.'));
  const manifest = parsed as Manifest;
  if (manifest.id !== id) throw invalid(id, `its manifest belongs to backup ${manifest.id}`);
  const names = new Set(manifest.collections.map((c) => c.name));
  const files = new Set(manifest.collections.map((c) => c.file));
  if (names.size !== manifest.collections.length || files.size !== manifest.collections.length) throw invalid(id, 'its manifest lists a collection or file twice');
  return manifest;
}

/** What reading one collection file produced; compared with its manifest entry by `checkEntry`. */
export interface FileReading {
  bytes: number;
  sha256: string;
  documents: number;
  contentDigest: string;
}

/**
 * Streams one collection file: hashes the compressed bytes, decompresses, and hands each line
 * and its decoded document to `onDocument` (which may await, to batch inserts). Throws 422
 * BACKUP_ARCHIVE_CORRUPT for a missing file, bad gzip or a line that is not a document, and
 * whatever `onDocument` throws as it is.
 */
export async function readCollection(
  store: BackupStore,
  id: string,
  entry: CollectionEntry,
  onDocument: (document: Record<string, unknown>, count: number) => void | Promise<void>,
): Promise<FileReading> {
  const file = await store.read(id, entry.file);
  if (!file) throw corrupt(id, `the file ${entry.file} of collection ${entry.name} is missing`);
  const sha256 = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(data: Buffer, _encoding, callback) {
      sha256.update(data);
      bytes += data.length;
      callback(null, data);
    },
  });
  const gunzip = createGunzip();
  file.stream.on('error', (error) => gunzip.destroy(error));
  const decompressed = file.stream.pipe(measure).pipe(gunzip);
  const digest = new ContentDigest();
  let documents = 0;
  let callerFailure: unknown;
  try {
    for await (const line of readLines(decompressed)) {
      let document: Record<string, unknown>;
      try {
        document = decodeLine(line);
      } catch (error) {
        throw corrupt(id, `line ${documents + 1} of ${entry.file} is not an Extended JSON document (${(error as Error).message})`);
      }
      digest.add(line);
      documents++;
      try {
        await onDocument(document, documents);
      } catch (error) {
        callerFailure = error;
        throw error;
      }
    }
  } catch (error) {
    // What `onDocument` threw (an insert refused, a lost lock) says nothing about the file.
    if (error instanceof HttpError || error === callerFailure) throw error;
    throw corrupt(id, `${entry.file} cannot be decompressed (${(error as Error).message}): it is truncated or not gzip`);
  } finally {
    file.stream.destroy();
  }
  return { bytes, sha256: sha256.digest('hex'), documents, contentDigest: digest.hex() };
}

/**
 * With a signing key, only a manifest signed with it is accepted: unsigned (made without the key,
 * or stripped) or signed otherwise (edited, or another key) is refused with 422 BACKUP_ARCHIVE_INVALID.
 */
function checkSignature(id: string, manifest: Manifest, key: string): void {
  if (manifest.signature === undefined) {
    throw invalid(id, 'its manifest is not signed, and this server only restores archives signed with its BACKUP_SIGNING_KEY; nothing was changed');
  }
  // Both are 64 hex digits (the manifest schema checks the signature's form).
  if (!timingSafeEqual(Buffer.from(manifestSignature(manifest, key), 'hex'), Buffer.from(manifest.signature, 'hex'))) {
    throw invalid(id, 'its manifest signature does not match: the archive was modified after the backup, or signed with another BACKUP_SIGNING_KEY; nothing was changed');
  }
}

/** Compares a reading with the manifest; throws 422 BACKUP_ARCHIVE_CORRUPT on any difference. */
export function checkEntry(id: string, entry: CollectionEntry, reading: FileReading): void {
  const problems: string[] = [];
  if (reading.bytes !== entry.bytes) problems.push(`size ${reading.bytes} bytes, manifest says ${entry.bytes}`);
  if (reading.sha256 !== entry.sha256) problems.push('SHA-256 differs from the manifest');
  if (reading.documents !== entry.documents) problems.push(`${reading.documents} documents, manifest says ${entry.documents}`);
  if (reading.contentDigest !== entry.contentDigest) problems.push('content digest differs from the manifest');
  if (problems.length) throw corrupt(id, `${entry.file} (collection ${entry.name}): ${problems.join('; ')}`, { collection: entry.name, file: entry.file, problems });
}

/**
 * Reads the whole archive once, checking everything; returns its manifest when it is sound.
 * `onProgress` hears the documents checked so far out of the manifest's total.
 */
export async function verifyArchive(
  store: BackupStore,
  id: string,
  signingKey: string | undefined,
  onProgress?: (progress: { collection: string; documents: number; totalDocuments: number }) => void,
): Promise<Manifest> {
  const manifest = await readManifest(store, id);
  if (signingKey !== undefined) checkSignature(id, manifest, signingKey);
  const totalDocuments = manifest.totals.documents;
  let done = 0;
  for (const entry of manifest.collections) {
    const reading = await readCollection(store, id, entry, (_document, count) => {
      if (count % 1000 === 0) onProgress?.({ collection: entry.name, documents: done + count, totalDocuments });
    });
    checkEntry(id, entry, reading);
    done += reading.documents;
    onProgress?.({ collection: entry.name, documents: done, totalDocuments });
  }
  return manifest;
}
