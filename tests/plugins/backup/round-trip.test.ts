import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { gzipSync, gunzipSync } from 'node:zlib';
import { CoreEvents, type CoreEventMap } from '../../../core/index.js';
import { decodeLine, encodeDocument } from '../../../plugins/backup/archive/codec.js';
import { nextEvent } from '../../helpers/test-host.js';
import { collectionFile, engineSettled, forgeCollection, readLinesOf, SCHEDULER_COLLECTIONS, snapshot, startBackupServer, supportsDecimal128, wipe, type BackupTestServer } from './backup-test-kit.js';

const { Binary, Decimal128, Double, Int32, Long, ObjectId } = BSON;

interface BackupView { id: string; documents: number; collections: Array<{ name: string; documents: number; sha256: string }> }
interface RestoreView { dryRun: boolean; confirmation?: string; collections: Array<{ name: string; action: string; archiveDocuments: number; currentDocuments: number }>; untouched: string[]; verified?: boolean }

/** Values of every BSON type a Flowgate plugin is likely to store, with their exact types. */
function typedDocument(index: number, withDecimal: boolean) {
  return {
    _id: new ObjectId(),
    ref: new ObjectId(),
    at: new Date(Date.UTC(2026, 0, 1, 12, 0, index)),
    bytes: new Binary(Buffer.from([0, 1, 2, 255, index]), 0),
    uuid: new Binary(Buffer.alloc(16, index), 4),
    count: new Int32(index),
    big: Long.fromString('9007199254740993'),
    ratio: new Double(1),
    text: `line one\nline "two" ünïcödé ${index}`,
    nested: { list: [1, 'two', { three: null }], flag: true },
    ...(withDecimal ? { amount: Decimal128.fromString('1234567.8901') } : {}),
  };
}

describe('plugin backup: round trip', () => {
  let t: BackupTestServer;
  before(async () => { t = await startBackupServer('backup_round'); });
  after(async () => { await t.stop(); });

  it('backs up every registered collection, restores after a wipe, and every document and type comes back', async () => {
    for (const name of ['Ada', 'Grace', 'Linus']) {
      assert.equal((await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name } })).status, 201);
    }
    // Each greeting runs the shipped greeting-follow-up workflow: wait until the engine has written everything.
    await engineSettled(t.db, 3);
    const withDecimal = await supportsDecimal128(t.db);
    await t.db.collection('proberecords').insertMany(Array.from({ length: 25 }, (_, i) => typedDocument(i, withDecimal)));
    await t.db.collection('probecaches').insertOne({ cached: 'derived data' });
    const before = await snapshot(t.db);

    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    const names = made.body.collections.map((c) => c.name);
    assert.ok(names.includes('greetings') && names.includes('proberecords'), 'a plugin\'s models are backed up without being listed anywhere');
    assert.ok(names.includes('executions') && names.includes('workflowevents'), 'the engine\'s data is backed up');
    assert.ok(!names.includes('probecaches') && !names.includes('backupschedules'), 'models registered with backup: false are left out');
    assert.equal(made.body.collections.find((c) => c.name === 'proberecords')?.documents, 25);

    await wipe(t.db);
    await t.db.collection('probecaches').insertOne({ cached: 'rebuilt after the wipe' });
    const cacheAfterWipe = (await snapshot(t.db)).probecaches;

    const plan = await t.request<RestoreView>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: {} });
    assert.equal(plan.status, 200, plan.text);
    assert.equal(plan.body.dryRun, true);
    assert.deepEqual(plan.body.collections.find((c) => c.name === 'greetings'), { name: 'greetings', archiveDocuments: 3, currentDocuments: 0, action: 'replace' });
    assert.ok(plan.body.untouched.includes('probecaches'));
    assert.equal((await t.db.collection('greetings').countDocuments()), 0, 'a dry run changes nothing');

    const restored = await t.request<RestoreView>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
    assert.equal(restored.status, 200, restored.text);
    assert.equal(restored.body.verified, true);
    const after = await snapshot(t.db);
    assert.deepEqual({ ...after, probecaches: undefined }, { ...before, probecaches: undefined });
    assert.deepEqual(after.probecaches, cacheAfterWipe, 'collections outside the archive are left as they are');
    const listed = await t.request<{ items: Array<{ name: string }> }>('get', '/api/hello/greetings', { as: 'viewer' });
    assert.deepEqual(listed.body.items.map((g) => g.name).sort(), ['Ada', 'Grace', 'Linus'], 'the plugin reads its restored data through its API');
    const runs = await t.request<{ items: unknown[] }>('get', '/api/executions?limit=10', { as: 'admin' });
    assert.equal(runs.body.items.length, 3, 'the engine reads its restored executions');
    const indexes = await t.db.collection('greetings').listIndexes().toArray();
    assert.ok(indexes.some((i) => i.unique && i.key.idempotencyKey === 1), 'indexes are restored');
  });

  it('keeps Decimal128, Binary, Long, Int32 and Double apart through the archive encoding', () => {
    const original = { ...typedDocument(7, true), negativeZero: new Double(-0), tiny: new Double(5e-324) };
    const line = encodeDocument(original);
    const decoded = decodeLine(gunzipSync(gzipSync(`${line}\n`)).toString('utf8').trimEnd());
    assert.equal(encodeDocument(decoded), line);
    assert.ok(decoded.amount instanceof Decimal128 && decoded.amount.toString() === '1234567.8901');
    assert.ok(decoded.big instanceof Long && decoded.count instanceof Int32 && decoded.ratio instanceof Double);
    assert.ok(decoded.uuid instanceof Binary && decoded.uuid.sub_type === 4);
  });

  it('restores a Decimal128 exactly where the database stores it, and is refused without damage where it cannot (FerretDB v1)', async () => {
    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    const lines = readLinesOf(collectionFile(t.backupDir, made.body.id, 'proberecords'));
    const decimal = { _id: new ObjectId(), amount: Decimal128.fromString('-0.000000000000000000000000000000001') };
    forgeCollection(t.backupDir, made.body.id, 'proberecords', [...lines, encodeDocument(decimal)]);
    const before = await snapshot(t.db);
    const plan = await t.request<RestoreView>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: {} });
    const restored = await t.request<{ error?: { code: string } }>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
    if (await supportsDecimal128(t.db)) {
      assert.equal(restored.status, 200, restored.text);
      const stored = await t.db.collection('proberecords').findOne({ _id: decimal._id }, { promoteValues: false });
      assert.equal(encodeDocument(stored ?? {}), encodeDocument(decimal));
    } else {
      assert.equal(restored.status, 500, restored.text);
      assert.equal(restored.body.error?.code, 'BACKUP_RESTORE_FAILED');
      assert.deepEqual(await snapshot(t.db), before);
    }
  });

  it('restores into another database, leaving the current one alone', async () => {
    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    const target = `${t.db.databaseName}_copy`;
    const plan = await t.request<RestoreView>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { targetDatabase: target } });
    assert.ok(plan.body.collections.every((c) => c.action === 'create'));
    const restored = await t.request<RestoreView>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { targetDatabase: target, dryRun: false, confirm: plan.body.confirmation } });
    assert.equal(restored.status, 200, restored.text);
    const copy = t.db.client.db(target);
    const source = await snapshot(t.db, [...SCHEDULER_COLLECTIONS, 'probecaches', 'backupschedules']);
    assert.deepEqual(await snapshot(copy), source);
    await copy.dropDatabase();
  });

  it('refuses a confirmation made for another target, and a restore without one', async () => {
    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    const plan = await t.request<RestoreView>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { targetDatabase: 'elsewhere' } });
    const missing = await t.request<{ error: { code: string } }>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { dryRun: false } });
    assert.equal(missing.status, 428);
    assert.equal(missing.body.error.code, 'BACKUP_CONFIRMATION_REQUIRED');
    const reused = await t.request<{ error: { code: string } }>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
    assert.equal(reused.status, 428);
  });

  it('announces progress on the backups topic and each outcome as a core activity', async () => {
    const activities: Array<CoreEventMap['activity']> = [];
    t.server.get(CoreEvents).on('activity', (event) => { activities.push(event); });
    const admin = await t.socket({ as: 'admin' });
    const agent = await t.socket({ as: 'agent' });
    assert.deepEqual((await admin.emitWithAck('subscribe', ['backups']) as { subscribed: string[] }).subscribed, ['backups']);
    assert.equal((await agent.emitWithAck('subscribe', ['backups']) as { denied: unknown[] }).denied.length, 1);
    const started = nextEvent<{ id: string }>(admin, 'backup.started');
    const progress = nextEvent<{ id: string; collection: string; documents: number }>(admin, 'backup.progress');
    const completed = nextEvent<{ id: string; documents: number }>(admin, 'backup.completed');
    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    assert.equal((await started).id, made.body.id);
    assert.equal((await progress).id, made.body.id);
    assert.equal((await completed).documents, made.body.documents);
    const plan = await t.request<RestoreView>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: {} });
    const restoredEvent = nextEvent<{ id: string }>(admin, 'restore.completed');
    await t.request('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
    assert.equal((await restoredEvent).id, made.body.id);
    assert.deepEqual(activities.map((a) => [a.action, a.resource.id, a.outcome, a.actor?.role]), [
      ['backup.backup.succeeded', made.body.id, 'succeeded', 'admin'],
      ['backup.restore.succeeded', made.body.id, 'succeeded', 'owner'],
    ]);
  });
});
