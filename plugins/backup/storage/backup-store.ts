/**
 * Where archives live. An archive is a set of named files (the collection dumps and
 * `manifest.json`) under a backup id. Writing goes through a draft that becomes visible only
 * when committed, so a process that dies mid-backup never leaves a half archive that lists as
 * good. The local filesystem is the default; docs/operations.md describes an S3-compatible store.
 */
import type { Readable, Writable } from 'node:stream';

export interface BackupStore {
  /** Starts a draft for `id`. Nothing of it is listed or readable until `commit`. */
  begin(id: string): Promise<ArchiveDraft>;
  /** Committed archive ids, newest first. */
  list(): Promise<string[]>;
  /** True when `id` names a committed archive. */
  has(id: string): Promise<boolean>;
  /** Reads one file of a committed archive; null when the file does not exist. */
  read(id: string, file: string): Promise<{ stream: Readable; size: number } | null>;
  /** Removes a committed archive entirely. */
  remove(id: string): Promise<void>;
  /** Removes drafts left behind by a process that died; call only while holding the backup lock. */
  removeDrafts(): Promise<number>;
  /** Human-readable location, for logs and the CLI. */
  describe(): string;
}

export interface ArchiveDraft {
  /** A stream for one new file of the archive; the caller ends it. */
  write(file: string): Writable;
  /** Makes the archive visible at once, with `manifest` as its manifest. Files must be complete. */
  commit(manifest: Buffer): Promise<void>;
  /** Throws the draft away. Safe to call after a failed commit. */
  abort(): Promise<void>;
}

export const BackupStoreToken = Symbol.for('backup.BackupStore');
