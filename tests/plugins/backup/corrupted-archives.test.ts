import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  collectionFile, editManifest, engineSettled, forgeCollection, readLinesOf, snapshot, startBackupServer, type BackupTestServer,
} from './backup-test-kit.js';

interface ErrorBody { error: { code: string; message: string } }

describe('plugin backup: damaged, modified and foreign archives are refused', () => {
  let t: BackupTestServer;
  before(async () => {
    t = await startBackupServer('backup_corrupt');
    for (const name of ['Ada', 'Grace', 'Linus', 'Margaret']) await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name } });
    await t.db.collection('proberecords').insertMany(Array.from({ length: 50 }, (_, i) => ({ i, label: `record ${i}` })));
    await engineSettled(t.db, 4);
  });
  after(async () => { await t.stop(); });

  /** A fresh backup, then a change to the data, so that any restore that went through would show. */
  async function backupThenChange(): Promise<string> {
    const made = await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    await t.db.collection('proberecords').insertOne({ label: `after ${made.body.id}` });
    return made.body.id;
  }

  /** Both a dry run and a real restore are refused with `code`, and the database is exactly as before. */
  async function assertRefused(id: string, code: string, messagePart: RegExp): Promise<void> {
    const before = await snapshot(t.db);
    for (const body of [{}, { dryRun: false, confirm: 'anything' }]) {
      const response = await t.request<ErrorBody>('post', `/api/backups/${id}/restore`, { as: 'owner', body });
      assert.equal(response.status, 422, response.text);
      assert.equal(response.body.error.code, code);
      assert.match(response.body.error.message, messagePart);
    }
    assert.deepEqual(await snapshot(t.db), before, 'nothing changed');
  }

  it('a truncated gzip file', async () => {
    const id = await backupThenChange();
    const file = collectionFile(t.backupDir, id, 'proberecords');
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    await assertRefused(id, 'BACKUP_ARCHIVE_CORRUPT', /damaged: .*ndjson\.gz.*nothing was changed/);
  });

  it('a truncated gzip file whose manifest was updated to its new size and checksum', async () => {
    const id = await backupThenChange();
    const file = collectionFile(t.backupDir, id, 'proberecords');
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    const cut = readFileSync(file);
    editManifest(t.backupDir, id, (m) => {
      const entry = m.collections.find((c) => c.name === 'proberecords');
      Object.assign(entry ?? {}, { bytes: cut.length, sha256: (sha256Of(cut)) });
      return m;
    });
    await assertRefused(id, 'BACKUP_ARCHIVE_CORRUPT', /truncated or not gzip/);
  });

  it('one changed line', async () => {
    const id = await backupThenChange();
    const file = collectionFile(t.backupDir, id, 'greetings');
    const lines = readLinesOf(file);
    lines[1] = (lines[1] as string).replace('Hello, ', 'Goodbye, ');
    writeFileSync(file, gzipSync(`${lines.join('\n')}\n`));
    await assertRefused(id, 'BACKUP_ARCHIVE_CORRUPT', /SHA-256 differs/);
  });

  it('one changed line even when size and SHA-256 in the manifest were recomputed', async () => {
    const id = await backupThenChange();
    const file = collectionFile(t.backupDir, id, 'greetings');
    const lines = readLinesOf(file);
    lines[0] = (lines[0] as string).replace('Hello, ', 'Goodbye, ');
    const gz = gzipSync(`${lines.join('\n')}\n`);
    writeFileSync(file, gz);
    editManifest(t.backupDir, id, (m) => {
      Object.assign(m.collections.find((c) => c.name === 'greetings') ?? {}, { bytes: gz.length, sha256: sha256Of(gz) });
      return m;
    });
    await assertRefused(id, 'BACKUP_ARCHIVE_CORRUPT', /content digest differs/);
  });

  it('a wrong checksum in the manifest', async () => {
    const id = await backupThenChange();
    editManifest(t.backupDir, id, (m) => {
      const entry = m.collections[0];
      if (entry) entry.sha256 = entry.sha256.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
      return m;
    });
    await assertRefused(id, 'BACKUP_ARCHIVE_CORRUPT', /SHA-256 differs/);
  });

  it('a missing collection file', async () => {
    const id = await backupThenChange();
    rmSync(collectionFile(t.backupDir, id, 'proberecords'));
    await assertRefused(id, 'BACKUP_ARCHIVE_CORRUPT', /is missing/);
  });

  it('a line that is not Extended JSON, with every checksum consistent', async () => {
    const id = await backupThenChange();
    const lines = readLinesOf(collectionFile(t.backupDir, id, 'proberecords'));
    lines[3] = '{"i": {"$numberInt": "4"}, "label": "cut off';
    forgeCollection(t.backupDir, id, 'proberecords', lines);
    await assertRefused(id, 'BACKUP_ARCHIVE_CORRUPT', /line 4 of .* is not an Extended JSON document/);
  });

  it('a foreign archive: no manifest, another format, or another backup\'s manifest', async () => {
    const noManifest = await backupThenChange();
    rmSync(join(t.backupDir, noManifest, 'manifest.json'));
    await assertRefused(noManifest, 'BACKUP_ARCHIVE_INVALID', /has no manifest\.json/);

    const otherFormat = await backupThenChange();
    writeFileSync(join(t.backupDir, otherFormat, 'manifest.json'), JSON.stringify({ format: 'mongodump', collections: [] }));
    await assertRefused(otherFormat, 'BACKUP_ARCHIVE_INVALID', /does not describe a flowgate-backup archive/);

    const notJson = await backupThenChange();
    writeFileSync(join(t.backupDir, notJson, 'manifest.json'), 'PK\u0003\u0004 zip bytes');
    await assertRefused(notJson, 'BACKUP_ARCHIVE_INVALID', /not JSON/);

    const first = await backupThenChange();
    const second = await backupThenChange();
    writeFileSync(join(t.backupDir, second, 'manifest.json'), readFileSync(join(t.backupDir, first, 'manifest.json')));
    await assertRefused(second, 'BACKUP_ARCHIVE_INVALID', new RegExp(`belongs to backup ${first}`));

    const escaping = await backupThenChange();
    editManifest(t.backupDir, escaping, (m) => { (m.collections[0] as { file: string }).file = '../../etc/passwd'; return m; });
    await assertRefused(escaping, 'BACKUP_ARCHIVE_INVALID', /does not match the archive format/);
  });

  it('an archive that fails while loading (a duplicate _id) leaves every collection as it was', async () => {
    const id = await backupThenChange();
    const lines = readLinesOf(collectionFile(t.backupDir, id, 'proberecords'));
    forgeCollection(t.backupDir, id, 'proberecords', [...lines, lines[0] as string]);
    const before = await snapshot(t.db);
    const plan = await t.request<{ confirmation: string }>('post', `/api/backups/${id}/restore`, { as: 'owner', body: {} });
    assert.equal(plan.status, 200, 'the archive itself is consistent');
    const restore = await t.request<ErrorBody>('post', `/api/backups/${id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
    assert.equal(restore.status, 500, restore.text);
    assert.equal(restore.body.error.code, 'BACKUP_RESTORE_FAILED');
    assert.match(restore.body.error.message, /the data is as it was/);
    assert.deepEqual(await snapshot(t.db), before);
  });
});

function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
