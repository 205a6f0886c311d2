/**
 * Archives as folders under BACKUP_DIR: `<dir>/<id>/manifest.json` plus one gzip file per
 * collection. A draft is written in `<dir>/.draft-<id>/`, flushed to disk, and renamed to
 * `<dir>/<id>/` in one step; a rename within a filesystem is atomic, so an archive folder either
 * exists complete or not at all.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { ARCHIVE_FILE_PATTERN, BACKUP_ID_PATTERN, MANIFEST_FILE } from '../archive/manifest.js';
import type { ArchiveDraft, BackupStore } from './backup-store.js';

const ID = new RegExp(BACKUP_ID_PATTERN);
const FILE = new RegExp(ARCHIVE_FILE_PATTERN);
const DRAFT_PREFIX = '.draft-';

/** Ids and file names are checked here too, so no caller can make the store leave its folder. */
function checkId(id: string): string {
  if (!ID.test(id)) throw new Error(`not a backup id: ${JSON.stringify(id)}`);
  return id;
}

function checkFile(file: string): string {
  if (file !== MANIFEST_FILE && !FILE.test(file)) throw new Error(`not an archive file name: ${JSON.stringify(file)}`);
  return file;
}

/** fsync a file or folder, so a rename that follows cannot be persisted before the data. */
async function flush(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class LocalBackupStore implements BackupStore {
  readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  describe(): string {
    return this.root;
  }

  async begin(id: string): Promise<ArchiveDraft> {
    const draftDir = join(this.root, DRAFT_PREFIX + checkId(id));
    const finalDir = join(this.root, id);
    await mkdir(draftDir, { recursive: true });
    const written: string[] = [];
    return {
      write: (file: string): Writable => {
        written.push(checkFile(file));
        return createWriteStream(join(draftDir, file), { flags: 'wx' });
      },
      commit: async (manifest: Buffer) => {
        await writeFile(join(draftDir, MANIFEST_FILE), manifest, { flag: 'wx' });
        for (const file of [...written, MANIFEST_FILE]) await flush(join(draftDir, file));
        await flush(draftDir);
        await rename(draftDir, finalDir);
        await flush(this.root);
      },
      abort: async () => {
        await rm(draftDir, { recursive: true, force: true });
      },
    };
  }

  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return entries.filter((name) => ID.test(name)).sort().reverse();
  }

  async has(id: string): Promise<boolean> {
    if (!ID.test(id)) return false;
    return stat(join(this.root, id)).then((s) => s.isDirectory(), () => false);
  }

  async read(id: string, file: string) {
    const path = join(this.root, checkId(id), checkFile(file));
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) return null;
    return { stream: createReadStream(path), size: info.size };
  }

  async remove(id: string): Promise<void> {
    // Renamed out of the listing first, so a half-deleted archive is never listed.
    const doomed = join(this.root, `${DRAFT_PREFIX}deleted-${checkId(id)}`);
    await rename(join(this.root, id), doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  async removeDrafts(): Promise<number> {
    const entries = await readdir(this.root).catch(() => [] as string[]);
    const drafts = entries.filter((name) => name.startsWith(DRAFT_PREFIX));
    for (const name of drafts) await rm(join(this.root, name), { recursive: true, force: true });
    return drafts.length;
  }
}
