/**
 * What a restore may write and what it says when it fails: an archive whose data the current
 * models' indexes reject must fail before the swap (so "rolled back" is true), and an archive
 * cannot plant a collection that backups never take.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BSON } from 'mongodb';
import { MongoConnection } from '../../../core/index.js';
import { ContentDigest } from '../../../plugins/backup/archive/codec.js';
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
