import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { startBackupServer, type BackupTestServer } from './backup-test-kit.js';

interface BackupView { id: string; collections: Array<{ name: string; documents: number }> }

describe('plugin backup: a backup taken while the application writes', function () {
  // Writers compete with the backup on purpose, so this case is slower than the others.
  this.timeout(120_000);
  let t: BackupTestServer;
  before(async () => { t = await startBackupServer('backup_concurrent', { pluginSettings: { backup: { batchSize: 100 } } }); });
  after(async () => { await t.stop(); });

  it('completes, restores, and holds every document that existed throughout, in a state it really had', async () => {
    const records = t.db.collection('proberecords');
    await records.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: new BSON.ObjectId(), seq: i, version: 0, payload: 'x'.repeat(200) })));
    const initialIds = new Set((await records.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));

    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await Promise.all([
          records.insertOne({ seq: 10_000 + i, version: 0, payload: 'new' }),
          records.updateOne({ seq: i % 2000 }, { $inc: { version: 1 } }),
          t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: `Writer ${i}` } }),
        ]);
        writes++;
      }
    })();
    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    writing = false;
    await writer;
    assert.equal(made.status, 201, made.text);
    assert.ok(writes > 0, 'writes happened while the backup ran');

    const final = new Map((await records.find({}).toArray()).map((d) => [String(d._id), d.version as number]));
    const plan = await t.request<{ confirmation: string }>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { targetDatabase: `${t.db.databaseName}_pit` } });
    const restored = await t.request<{ verified: boolean }>('post', `/api/backups/${made.body.id}/restore`, {
      as: 'owner', body: { targetDatabase: `${t.db.databaseName}_pit`, dryRun: false, confirm: plan.body.confirmation },
    });
    assert.equal(restored.status, 200, restored.text);
    const copy = t.db.client.db(`${t.db.databaseName}_pit`);
    const restoredDocs = await copy.collection('proberecords').find({}).toArray();
    assert.equal(restoredDocs.length, made.body.collections.find((c) => c.name === 'proberecords')?.documents);
    const restoredIds = new Set(restoredDocs.map((d) => String(d._id)));
    assert.equal(restoredIds.size, restoredDocs.length, 'no document twice');
    for (const id of initialIds) assert.ok(restoredIds.has(id), 'every document that existed throughout is in the backup');
    for (const doc of restoredDocs) {
      const finalVersion = final.get(String(doc._id));
      assert.ok(finalVersion !== undefined, 'nothing that never existed');
      assert.ok((doc.version as number) <= finalVersion, 'each document in a state it had');
    }
    await copy.dropDatabase();
  });
});
