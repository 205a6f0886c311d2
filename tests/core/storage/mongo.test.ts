import assert from 'node:assert/strict';
import { Types, type Model } from 'mongoose';
import { CoreError, MongoConnection, Scheduler } from '../../../core/index.js';
import { MongoClient } from 'mongodb';
import { InsertBatcher } from '../../../core/storage/insert-batcher.js';
import { freePort } from '../../../scripts/local-services.js';
import { ProbeRecordModel, type ProbeRecord } from '../../fixtures/plugins/core-probe/index.js';
import { eventually, CORE_PROBE_PLUGIN, startTestServer, uniqueDatabaseUri, type TestServer } from '../../helpers/test-host.js';

/** Proof that what the core relies on works against the server the tests run on (FerretDB locally). */
describe('core/storage/mongo', () => {
  let t: TestServer;
  let records: Model<ProbeRecord>;
  before(async () => {
    t = await startTestServer({ label: 'storage', plugins: [CORE_PROBE_PLUGIN] });
    records = t.server.get(ProbeRecordModel.token);
  });
  after(async () => { await t?.stop(); });

  it('creates, reads, updates and deletes through a plugin model', async () => {
    const created = await records.create({ key: 'crud', hits: 1, firstSeenAt: new Date('2026-01-01T00:00:00Z') });
    assert.equal((await records.findById(created._id).lean())?.hits, 1);
    await records.updateOne({ _id: created._id }, { $inc: { hits: 2 }, $set: { note: 'updated' } });
    const updated = await records.findById(created._id).lean();
    assert.equal(updated?.hits, 3);
    assert.equal(updated?.note, 'updated');
    assert.equal((await records.deleteOne({ _id: created._id })).deletedCount, 1);
    assert.equal(await records.findById(created._id), null);
  });

  it('sends inserts made meanwhile together (InsertBatcher): each stored once, a duplicate refused alone with 11000', async () => {
    const client = await new MongoClient(uniqueDatabaseUri('batcher'), { monitorCommands: true }).connect();
    const inserts: number[] = [];
    client.on('commandStarted', (event) => { if (event.commandName === 'insert') inserts.push((event.command.documents as unknown[]).length); });
    try {
      const collection = client.db().collection<{ _id: string; n: number }>('batched');
      const batcher = new InsertBatcher();
      const ids = Array.from({ length: 40 }, (_, i) => `doc-${i}`);
      const outcomes = await Promise.allSettled([...ids, 'doc-3'].map((id, n) => batcher.insert(collection as never, { _id: id, n })));
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      assert.equal(refused.length, 1, 'only the repeated _id is refused');
      assert.equal((refused[0]?.reason as { code?: number }).code, 11000);
      assert.equal(await collection.countDocuments({}), 40);
      assert.equal(inserts.reduce((a, b) => a + b, 0), 41, 'every document was sent once');
      assert.ok(inserts.length >= 2 && inserts.length <= 3, `41 inserts made at once went in ${inserts.length} commands (the first alone, the rest together)`);
      assert.equal(await batcher.insert(collection as never, { _id: 'alone', n: 0 }).then(() => inserts.at(-1)), 1, 'an insert into an idle collection goes at once, alone');
    } finally {
      await client.close();
    }
  });

  it('insertNew casts and validates like create, applies defaults, refuses a duplicate with 11000', async () => {
    const mongo = t.server.get(MongoConnection);
    const stored = await mongo.insertNew(records, { key: 'insert-new', firstSeenAt: new Date('2026-01-01T00:00:00Z') });
    assert.equal(stored.hits, 0);
    assert.equal((await records.findOne({ key: 'insert-new' }).lean())?.hits, 0);
    await assert.rejects(mongo.insertNew(records, { key: 'insert-new', firstSeenAt: new Date() }), (error: { code?: number }) => error.code === 11000);
    await assert.rejects(mongo.insertNew(records, { key: 'no-date' } as never), /firstSeenAt/);
  });

  it('builds the plugin model indexes at start: the unique index refuses a duplicate', async () => {
    const indexes = await records.collection.indexes();
    assert.ok(indexes.some((index) => index.unique && JSON.stringify(index.key) === '{"key":1}'), JSON.stringify(indexes));
    await records.create({ key: 'only-once', hits: 0, firstSeenAt: new Date() });
    await assert.rejects(records.create({ key: 'only-once', hits: 0, firstSeenAt: new Date() }), (error: { code?: number }) => error.code === 11000);
    assert.equal(await records.countDocuments({ key: 'only-once' }), 1);
  });

  it('findOneAndUpdate upserts, and $setOnInsert only applies on insert', async () => {
    const first = await records.findOneAndUpdate(
      { key: 'upsert' }, { $inc: { hits: 1 }, $setOnInsert: { firstSeenAt: new Date('2026-01-01T00:00:00Z') } }, { upsert: true, returnDocument: 'after' },
    ).lean();
    assert.equal(first?.hits, 1);
    const second = await records.findOneAndUpdate(
      { key: 'upsert' }, { $inc: { hits: 1 }, $setOnInsert: { firstSeenAt: new Date('2030-01-01T00:00:00Z') } }, { upsert: true, returnDocument: 'after' },
    ).lean();
    assert.equal(second?.hits, 2);
    assert.equal(second?.firstSeenAt.toISOString(), '2026-01-01T00:00:00.000Z');
  });

  it('isolates concurrent writes to one document: no lost $inc, one winner of a conditional claim', async () => {
    const counter = await records.create({ key: 'concurrent', hits: 0, firstSeenAt: new Date() });
    await Promise.all(Array.from({ length: 25 }, () => records.updateOne({ _id: counter._id }, { $inc: { hits: 1 } })));
    assert.equal((await records.findById(counter._id).lean())?.hits, 25);
    const claims = await Promise.all(Array.from({ length: 5 }, (_, i) => records.findOneAndUpdate(
      { _id: counter._id, note: { $exists: false } }, { $set: { note: `claimed by ${i}` } }, { returnDocument: 'after' },
    ).lean()));
    assert.equal(claims.filter(Boolean).length, 1);
  });

  it('isolates writes to one document from several connections (several processes): no lost $inc, one winner per claim', async () => {
    // Each client is a connection of its own, as each server process has (the local URI says maxPoolSize=1).
    const uri = new URL(uniqueDatabaseUri('connections'));
    uri.searchParams.set('maxPoolSize', '1');
    const clients = await Promise.all(Array.from({ length: 20 }, () => new MongoClient(uri.toString()).connect()));
    try {
      const collection = (client: MongoClient) => client.db().collection<{ _id: string; hits: number; owner?: number }>('counters');
      await collection(clients[0]!).insertOne({ _id: 'shared', hits: 0 });
      await Promise.all(clients.map((client) => collection(client).updateOne({ _id: 'shared' }, { $inc: { hits: 1 } })));
      assert.equal((await collection(clients[0]!).findOne({ _id: 'shared' }))?.hits, clients.length, 'increments lost between connections');
      for (let round = 0; round < 10; round++) {
        await collection(clients[0]!).updateOne({ _id: 'shared' }, { $unset: { owner: '' } });
        const claims = await Promise.all(clients.slice(0, 4).map((client, i) => collection(client).findOneAndUpdate(
          { _id: 'shared', owner: { $exists: false } }, { $set: { owner: i } }, { returnDocument: 'after' },
        )));
        assert.equal(claims.filter(Boolean).length, 1, `round ${round}: several connections won one claim`);
      }
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('runs an Agenda job a plugin defined, which writes through the plugin model', async () => {
    const scheduler = t.server.get(Scheduler);
    await scheduler.now('core-probe.hit', { key: 'from-a-job' });
    await scheduler.now('core-probe.hit', { key: 'from-a-job' });
    const record = await eventually(async () => {
      const found = await records.findOne({ key: 'from-a-job' }).lean();
      return found?.hits === 2 ? found : null;
    }, 10_000);
    assert.ok(record.firstSeenAt instanceof Date);
  });

  it('updates by _id only while the rest of the filter matches (the conditional helpers)', async () => {
    const mongo = t.server.get(MongoConnection);
    const created = await records.create({ key: 'guarded', hits: 1, firstSeenAt: new Date('2026-01-01T00:00:00Z') });
    const id = created._id;
    assert.equal(await mongo.updateOneById(records, { _id: id, hits: { $lt: 1 } }, { $set: { note: 'no' } }), false);
    assert.equal(await mongo.updateOneById(records, { _id: id, hits: { $in: [1, 2] }, firstSeenAt: { $lte: new Date('2026-06-01T00:00:00Z') } }, { $inc: { hits: 1 } }), true);
    assert.equal((await mongo.findOneAndUpdateById(records, { _id: id, hits: 1 }, { $set: { note: 'stale' } })), null);
    const after = await mongo.findOneAndUpdateById(records, { _id: id, $or: [{ note: { $exists: false } }, { note: 'x' }] }, { $set: { note: 'claimed' } });
    assert.equal(after?.hits, 2);
    assert.equal(after?.note, 'claimed');
    assert.equal((await mongo.findOneById(records, { _id: id, note: 'claimed' }))?.hits, 2);
    assert.equal(await mongo.findOneById(records, { _id: id, note: 'other' }), null);
    assert.equal(await mongo.updateOneById(records, { _id: new Types.ObjectId() }, { $set: { note: 'x' } }), false);
  });

  it('keeps one scheduled job per unique key and lists it', async () => {
    const scheduler = t.server.get(Scheduler);
    const later = new Date(Date.now() + 3_600_000);
    await scheduler.at(later, 'core-probe.hit', { key: 'later' }, 'core-probe-later');
    await scheduler.at(new Date(later.getTime() + 60_000), 'core-probe.hit', { key: 'later' }, 'core-probe-later');
    const listed = (await scheduler.list('core-probe.hit')).filter((job) => (job.data as { uniqueKey?: string }).uniqueKey === 'core-probe-later');
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.nextRunAt?.getTime(), later.getTime() + 60_000);
    assert.equal(await scheduler.cancel('core-probe.hit', 'core-probe-later'), 1);
  });

  it('stops boot with MONGODB_UNAVAILABLE when the database cannot be reached, without showing its password', async () => {
    const port = await freePort();
    const error = await startTestServer({ label: 'nodb', plugins: [], mongodbUri: `mongodb://flowgate:db-password-123@127.0.0.1:${port}/nowhere`, config: { mongodb: { connectRetries: 0 } } })
      .then(async (server) => { await server.stop(); return null; }, (failure: unknown) => failure);
    assert.ok(error instanceof CoreError);
    assert.equal(error.code, 'MONGODB_UNAVAILABLE');
    assert.match(error.message, /after 1 attempts/);
    assert.doesNotMatch(error.message, /db-password-123/);
  });
});
