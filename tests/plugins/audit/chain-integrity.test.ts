/**
 * The audit chain against tampering with the database, writer and export races, and a Redis that lost its data.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AuditExport } from '../../../plugins/audit/export.js';
import { verifyExportFile } from '../../../plugins/audit/offline.js';
import { MongoConnection, RedisConnection } from '../../../core/index.js';
import { RetentionPruner } from '../../../plugins/audit/retention.js';
import { DigestSealer } from '../../../plugins/audit/sealer.js';
import { AuditSequence } from '../../../plugins/audit/sequence.js';
import { startAuditServer, type AuditTestServer } from './audit-host.js';

describe('audit chain: tampering, races and lost state', () => {
  let t: AuditTestServer;
  beforeEach(async () => { t = await startAuditServer('audit-chain', { maxEntriesPerDigest: 5 }); });
  afterEach(async () => { await t?.stop(); });

  it('does not re-seal (and so make verifiable) a tail whose digest was removed and whose entries were altered', async () => {
    await t.record(8);
    assert.equal(await t.sealAll(), 2);
    // Someone with database access (no signing key) removes the newest digest and rewrites an entry it sealed.
    const newest = await t.digests.find().sort({ digestNo: -1 }).limit(1).next();
    assert.ok(newest);
    await t.digests.deleteOne({ digestNo: newest.digestNo });
    await t.entries.updateOne({ seq: newest.lastSeq }, { $set: { action: 'nothing.happened', 'summary.after.n': 12345 } });
    const right = await t.verify();
    assert.equal(right.ok, false, 'the removed tail is noticed right after');
    // The next scheduled seal runs (every minute by default).
    await t.record(1);
    await t.sealAll();
    const later = await t.verify();
    assert.equal(later.ok, false, `the tampered tail now verifies: ${JSON.stringify(later)}`);
  });

  it('keeps sealing when the head in Redis lags the stored chain (a sealer stopped between the digest and the head)', async () => {
    await t.record(8);
    assert.equal(await t.sealAll(), 2);
    const first = await t.digests.findOne({ digestNo: 1 });
    assert.ok(first);
    const sealer = t.server.get(DigestSealer);
    await t.server.get(RedisConnection).client.set(sealer.headKey, JSON.stringify({ digestNo: 1, digestHash: first.digestHash }));
    await t.record(1);
    assert.equal(await t.sealAll(), 1);
    assert.deepEqual(await sealer.head(), { digestNo: 3, digestHash: (await t.digests.findOne({ digestNo: 3 }))?.digestHash });
    assert.equal((await t.verify()).ok, true);
  });

  it('stops sealing, and verification says so, when the digest at the head differs from the one sealed', async () => {
    await t.record(3);
    assert.equal(await t.sealAll(), 1);
    const sealer = t.server.get(DigestSealer);
    const announced = { digestNo: 1, digestHash: 'f'.repeat(64) };
    await t.server.get(RedisConnection).client.set(sealer.headKey, JSON.stringify(announced));
    await t.record(1);
    assert.equal(await t.sealAll(), 0);
    assert.deepEqual(await sealer.head(), announced, 'the head is left as it was');
    const report = await t.verify();
    assert.deepEqual(report.digests, [{ digestNo: 1, problem: 'differs from the digest the sealer announced' }]);
  });

  it('does not seal a later entry while an earlier number taken after the in-flight check is still being written', async () => {
    await t.record(2);
    const sequence = t.server.get(AuditSequence);
    const original = sequence.lowestInFlight.bind(sequence);
    let slow: { seq: number; at: Date } | null = null;
    // Right after the sealer looked at the numbers in flight, writer A takes a number (its insert is slow)
    // and writer B takes the next one and stores its entry at once.
    sequence.lowestInFlight = async (now: Date) => {
      const result = await original(now);
      if (!slow) {
        slow = await sequence.next();
        await t.record(1, { action: 'writer.b' });
      }
      return result;
    };
    await t.sealAll();
    sequence.lowestInFlight = original;
    assert.ok(slow);
    const a = slow as { seq: number; at: Date };
    // Writer A's insert lands now, as AuditLog.record would write it.
    await t.entries.insertOne({
      _id: 'writer-a', seq: a.seq, at: a.at, actor: { kind: 'user', id: 'u-1', role: 'admin' }, action: 'writer.a', resource: { type: 'thing' }, summary: {},
    });
    await sequence.settled(a.seq);
    await t.sealAll();
    const report = await t.verify();
    assert.equal(report.ok, true, `nothing was tampered with, yet: ${JSON.stringify(report)}`);
  });

  it('an export taken while the sealer runs verifies offline', async () => {
    await t.record(4);
    await t.sealAll();
    await t.record(2);
    const chunks: string[] = [];
    let sealedMidway = false;
    const out = new Writable({
      // No buffering: the export waits for each line to be taken, as it does on a slow HTTP client.
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        if (!sealedMidway && chunk.toString().includes('"type":"entry"')) {
          sealedMidway = true;
          // While the export streams entries, an entry is written and the scheduled seal runs.
          void (async () => { await t.record(1, { action: 'during.export' }); await t.sealAll(); })().then(() => callback(), callback);
          return;
        }
        callback();
      },
    });
    await t.server.get(AuditExport).write(out, 'ndjson', {});
    const file = join(mkdtempSync(join(tmpdir(), 'audit-export-')), 'export.ndjson');
    writeFileSync(file, chunks.join(''));
    const report = await verifyExportFile(file, Buffer.from('s'.repeat(32)));
    assert.equal(report.ok, true, `an untampered export does not verify: ${JSON.stringify({ ...report, header: undefined })}`);
  });

  it('finds the oldest digests and their entries removed, with the checkpoint moved to hide it', async () => {
    await t.record(15);
    assert.equal(await t.sealAll(), 3);
    // Someone with database access (no signing key) removes the first two digests and their
    // entries, well inside the retention period, and writes the checkpoint a prune would write.
    const second = await t.digests.findOne({ digestNo: 2 });
    assert.ok(second);
    await t.entries.deleteMany({ seq: { $lte: second.lastSeq as number } });
    await t.digests.deleteMany({ digestNo: { $lte: 2 } });
    await t.server.get(MongoConnection).connection.db?.collection('audit_checkpoint').updateOne(
      { _id: 'checkpoint' as never },
      { $set: { digestNo: 2, digestHash: second.digestHash, throughSeq: second.lastSeq, prunedAt: new Date() } },
      { upsert: true },
    );
    const report = await t.verify();
    assert.equal(report.ok, false, `10 of 15 entries are gone and no prune ran, yet: ${JSON.stringify(report)}`);
  });

  it('seals entries written after Redis lost the sequence counter on a log that was pruned', async () => {
    await t.record(15);
    assert.equal(await t.sealAll(), 3);
    await t.server.get(RetentionPruner).prune(new Date(Date.now() + 1_000));
    await t.sealAll();
    // Redis restarts without persistence (or fails over) while the servers keep running.
    const redis = t.server.get(RedisConnection);
    await redis.client.del(`${redis.keyPrefix}audit:seq`);
    const view = await t.log.record({ actor: { kind: 'user', id: 'u-1', role: 'admin' }, action: 'user.deleted', resource: { type: 'user', id: 'x' } });
    await t.sealAll();
    const stored = await t.log.get(view.id);
    // Someone with database access rewrites it.
    await t.entries.updateOne({ _id: view.id }, { $set: { action: 'nothing.happened' } });
    const report = await t.verify();
    assert.equal(report.ok, false, `entry seq ${view.seq} (sealed: ${Boolean(stored?.seal)}) was rewritten, yet: ${JSON.stringify(report)}`);
  });
});
