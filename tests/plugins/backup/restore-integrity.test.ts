/**
 * What a restore may write and what it says when it fails: an archive whose data the current
 * models' indexes reject must fail before the swap (so "rolled back" is true), and an archive
 * cannot plant a collection that backups never take.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BSON } from 'mongodb';
import { MongoConnection } from '../../../core/index.js';
import { ContentDigest } from '../../../plugins/backup/archive/codec.js';
import type { Manifest } from '../../../plugins/backup/archive/manifest.js';
import { collectionFile, editManifest, engineSettled, forgeCollection, readLinesOf, snapshot, startBackupServer, type BackupTestServer } from './backup-test-kit.js';

interface ErrorBody { error: { code: string; message: string } }

describe('plugin backup: restore integrity', () => {
  let t: BackupTestServer;
  before(async () => {
    t = await startBackupServer('backup_restore_integrity');
    for (const name of ['Ada', 'Grace']) await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name } });
    await engineSettled(t.db, 2);
  });
  after(async () => { await t.stop(); });

  it('does not say "rolled back, the data is as it was" when the data was replaced', async () => {
    const made = await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    const id = made.body.id;
    // An archive from a version whose greetings had no unique idempotencyKey index yet, with two
    // greetings sharing a key: it loads and swaps fine, then the current model's index cannot be built.
    const lines = readLinesOf(collectionFile(t.backupDir, id, 'greetings'));
    const twin = BSON.EJSON.parse(lines[0] as string, { relaxed: false }) as Record<string, unknown>;
    twin._id = new BSON.ObjectId();
    forgeCollection(t.backupDir, id, 'greetings', [...lines, BSON.EJSON.stringify(twin, { relaxed: false })]);
    editManifest(t.backupDir, id, (m) => {
      const entry = m.collections.find((c) => c.name === 'greetings');
      if (entry) entry.indexes = [];
      m.totals.documents += 1;
      return m;
    });
    await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Written after the backup' } });
    await engineSettled(t.db, 3);
    const before = await snapshot(t.db);
    const plan = await t.request<{ confirmation: string }>('post', `/api/backups/${id}/restore`, { as: 'owner', body: {} });
    assert.equal(plan.status, 200, plan.text);
    const restore = await t.request<ErrorBody>('post', `/api/backups/${id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
    const after = await snapshot(t.db);
    const lateGreeting = (docs: string[] | undefined) => (docs ?? []).some((line) => line.includes('Written after the backup'));
    assert.equal(lateGreeting(before.greetings), true);
    if (restore.status !== 200 && /rolled back, the data is as it was/.test(restore.body.error.message)) {
      assert.deepEqual(after, before, `answered ${restore.status} "${restore.body.error.message.slice(0, 120)}...", yet the data was replaced (the greeting written after the backup is ${lateGreeting(after.greetings) ? 'still there' : 'gone'})`);
    }
  });

  it('restores only collections a backup takes, not any name a manifest lists', async () => {
    await t.db.collection('greetings').deleteMany({}); // the twin the previous case left
    const made = await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    const id = made.body.id;
    // Whoever can write to BACKUP_DIR (not to the database) adds a collection that backups never
    // contain (here the probe's backup: false cache; in production e.g. identity_sessions), with
    // every checksum consistent, since nothing in the manifest is keyed.
    const line = BSON.EJSON.stringify({ _id: 'planted', cached: 'written by whoever edited the archive' }, { relaxed: false });
    const gz = gzipSync(`${line}\n`);
    writeFileSync(join(t.backupDir, id, '999-probecaches.ndjson.gz'), gz);
    editManifest(t.backupDir, id, (m) => {
      const digest = new ContentDigest();
      digest.add(line);
      m.collections.push({ name: 'probecaches', file: '999-probecaches.ndjson.gz', documents: 1, bytes: gz.length, uncompressedBytes: line.length + 1, sha256: createHash('sha256').update(gz).digest('hex'), contentDigest: digest.hex(), indexes: [] });
      m.totals.documents += 1;
      return m;
    });
    const plan = await t.request<{ confirmation: string }>('post', `/api/backups/${id}/restore`, { as: 'owner', body: {} });
    if (plan.status === 200) {
      const restore = await t.request('post', `/api/backups/${id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
      const planted = await t.db.collection('probecaches').findOne({ _id: 'planted' as never });
      assert.equal(planted, null, `a collection no backup takes was written by the restore (${restore.status})`);
    }
  });

  it("gives restored collections the current models' indexes, even when the archive recorded none", async () => {
    const made = await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    const id = made.body.id;
    editManifest(t.backupDir, id, (m) => {
      for (const entry of m.collections) entry.indexes = [];
      return m;
    });
    const plan = await t.request<{ confirmation: string }>('post', `/api/backups/${id}/restore`, { as: 'owner', body: {} });
    assert.equal(plan.status, 200, plan.text);
    const restore = await t.request('post', `/api/backups/${id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
    assert.equal(restore.status, 200, restore.text);
    const indexes = await t.db.collection('greetings').listIndexes().toArray();
    assert.ok(indexes.some((i) => i.unique && i.key.idempotencyKey === 1), `the model's unique index is missing: ${JSON.stringify(indexes)}`);
    const names = t.server.get(MongoConnection).connection.modelNames();
    assert.deepEqual(names.filter((name) => name.startsWith('backup_restoring_')), [], 'the models bound to loaded copies are gone');
  });
});

describe('plugin backup: signed archives (BACKUP_SIGNING_KEY)', () => {
  let t: BackupTestServer;
  before(async () => {
    t = await startBackupServer('backup_signed', { pluginSettings: { backup: { signingKey: 'a test key of at least thirty-two characters' } } });
    await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Ada' } });
    await engineSettled(t.db, 1);
  });
  after(async () => { await t.stop(); });

  const backUp = async (): Promise<string> => {
    const made = await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    return made.body.id;
  };
  const dryRun = (id: string) => t.request<ErrorBody>('post', `/api/backups/${id}/restore`, { as: 'owner', body: {} });

  it('signs each manifest and accepts an archive as it was made', async () => {
    const id = await backUp();
    const manifest = JSON.parse(readFileSync(join(t.backupDir, id, 'manifest.json'), 'utf8')) as Manifest;
    assert.match(manifest.signature ?? '', /^[a-f0-9]{64}$/);
    const plan = await dryRun(id);
    assert.equal(plan.status, 200, plan.text);
  });

  it('refuses an archive edited with every checksum made consistent', async () => {
    const id = await backUp();
    const lines = readLinesOf(collectionFile(t.backupDir, id, 'greetings'));
    forgeCollection(t.backupDir, id, 'greetings', lines.map((line) => line.replace('"Ada"', '"Mallory"')));
    assert.ok(readLinesOf(collectionFile(t.backupDir, id, 'greetings')).some((line) => line.includes('Mallory')), 'the forged archive holds the edit');
    const plan = await dryRun(id);
    assert.equal(plan.status, 422, plan.text);
    assert.equal(plan.body.error.code, 'BACKUP_ARCHIVE_INVALID');
    assert.match(plan.body.error.message, /signature does not match/);
  });

  it('refuses an archive whose signature was removed', async () => {
    const id = await backUp();
    editManifest(t.backupDir, id, (m) => {
      delete m.signature;
      return m;
    });
    const plan = await dryRun(id);
    assert.equal(plan.status, 422, plan.text);
    assert.equal(plan.body.error.code, 'BACKUP_ARCHIVE_INVALID');
    assert.match(plan.body.error.message, /not signed/);
  });
});
