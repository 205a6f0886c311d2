/**
 * Tampering straight on the collections, the way someone with database access would: each
 * change is found by verification and located by sequence number, and undoing it makes the
 * chain whole again.
 */
import assert from 'node:assert/strict';
import { startAuditServer, type AuditTestServer } from './audit-host.js';

describe('audit: tamper evidence', () => {
  let t: AuditTestServer;
  let gap: number;

  const entry = async (seq: number) => {
    const doc = await t.entries.findOne({ seq });
    assert.ok(doc, `entry ${seq} exists`);
    return doc;
  };

  before(async () => {
    t = await startAuditServer('tamper', { maxEntriesPerDigest: 10 });
    await t.record(12);
    gap = await t.skipSequenceNumber();
    await t.record(20);
    assert.equal(await t.sealAll(), 4);
  });
  after(async () => { await t?.stop(); });
  afterEach(async () => {
    const report = await t.verify();
    assert.equal(report.ok, true, `the undo left the chain broken: ${JSON.stringify(report)}`);
  });

  it('verifies an untouched chain, skipping sequence numbers never written', async () => {
    const report = await t.verify();
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.equal(report.entriesChecked, 32);
    assert.equal(report.digestsChecked, 4);
    assert.equal((await t.entries.countDocuments({ seq: gap })), 0);
  });

  it('finds a modified entry', async () => {
    const original = await entry(5);
    await t.entries.updateOne({ seq: 5 }, { $set: { 'summary.after.n': 999 } });
    const report = await t.verify();
    assert.equal(report.ok, false);
    assert.deepEqual(report.modified.map((f) => f.seq), [5]);
    assert.deepEqual([report.deleted, report.inserted, report.reordered, report.digests], [[], [], [], []]);
    await t.entries.replaceOne({ seq: 5 }, original);
  });

  it('finds a deleted entry', async () => {
    const original = await entry(7);
    await t.entries.deleteOne({ seq: 7 });
    const report = await t.verify();
    assert.deepEqual(report.deleted.map((f) => f.seq), [7]);
    assert.deepEqual([report.modified, report.inserted, report.reordered], [[], [], []]);
    await t.entries.insertOne(original);
  });

  it('finds an entry inserted into a sealed range (where a number was never used)', async () => {
    const forged = { ...(await entry(gap + 1)), _id: 'forged-entry', seq: gap, action: 'user.deleted' };
    await t.entries.insertOne(forged);
    const report = await t.verify();
    assert.deepEqual(report.inserted.map((f) => [f.seq, f.id]), [[gap, 'forged-entry']]);
    assert.deepEqual([report.modified, report.deleted, report.reordered], [[], [], []]);
    await t.entries.deleteOne({ seq: gap });
  });

  it('finds an entry inserted before the first digest', async () => {
    await t.entries.insertOne({ ...(await entry(1)), _id: 'backdated', seq: 0.5 });
    const report = await t.verify();
    assert.deepEqual(report.inserted.map((f) => f.id), ['backdated']);
    await t.entries.deleteOne({ seq: 0.5 });
  });

  it('finds reordered entries and says where each was sealed', async () => {
    await t.entries.updateOne({ seq: 10 }, { $set: { seq: -10 } });
    await t.entries.updateOne({ seq: 11 }, { $set: { seq: 10 } });
    await t.entries.updateOne({ seq: -10 }, { $set: { seq: 11 } });
    const report = await t.verify();
    assert.deepEqual(report.reordered.map((f) => [f.seq, f.sealedSeq]).sort(), [[10, 11], [11, 10]]);
    assert.deepEqual([report.modified, report.deleted, report.inserted], [[], [], []]);
    await t.entries.updateOne({ seq: 10 }, { $set: { seq: -10 } });
    await t.entries.updateOne({ seq: 11 }, { $set: { seq: 10 } });
    await t.entries.updateOne({ seq: -10 }, { $set: { seq: 11 } });
  });

  it('finds an entry moved to an unused number as reordered, not as deleted plus inserted', async () => {
    const next = await entry(gap + 1);
    await t.entries.updateOne({ seq: gap + 1 }, { $set: { seq: gap } });
    const report = await t.verify();
    assert.deepEqual(report.reordered.map((f) => [f.seq, f.sealedSeq]), [[gap, gap + 1]]);
    assert.deepEqual([report.deleted, report.inserted], [[], []]);
    await t.entries.replaceOne({ _id: next._id }, next);
  });

  it('finds a digest that was altered to match a modified entry', async () => {
    const digest = await t.digests.findOne({ digestNo: 1 });
    assert.ok(digest);
    await t.digests.updateOne({ digestNo: 1 }, { $set: { 'hashes.0': '0'.repeat(64) } });
    const report = await t.verify();
    assert.ok(report.digests.some((d) => d.digestNo === 1 && /modified/.test(d.problem)), JSON.stringify(report.digests));
    await t.digests.replaceOne({ digestNo: 1 }, digest);
  });

  it('finds a digest recomputed without the signing key', async () => {
    const digest = await t.digests.findOne({ digestNo: 2 });
    assert.ok(digest);
    const { digestHash } = await import('../../../plugins/audit/chain.js');
    const doctored = { ...digest, hashes: [...(digest.hashes as string[])] };
    doctored.hashes[0] = '1'.repeat(64);
    await t.digests.replaceOne({ digestNo: 2 }, { ...doctored, digestHash: digestHash(doctored as never) });
    const report = await t.verify();
    const problems = report.digests.filter((d) => d.digestNo <= 3).map((d) => d.problem);
    assert.ok(problems.includes('signature invalid'), JSON.stringify(report.digests));
    assert.ok(problems.some((p) => /does not chain/.test(p)), 'the next digest no longer chains');
    await t.digests.replaceOne({ digestNo: 2 }, digest);
  });

  it('finds deleted digests, in the middle and at the end', async () => {
    const last = await t.digests.find().sort({ digestNo: -1 }).limit(1).next();
    const middle = await t.digests.findOne({ digestNo: 2 });
    assert.ok(last && middle);
    await t.digests.deleteOne({ digestNo: last.digestNo });
    await t.digests.deleteOne({ digestNo: 2 });
    const report = await t.verify();
    assert.ok(report.digests.some((d) => d.digestNo === 2 && d.problem === 'missing'), JSON.stringify(report.digests));
    assert.ok(report.digests.some((d) => d.digestNo === last.digestNo && /newest/.test(d.problem)), JSON.stringify(report.digests));
    await t.digests.insertMany([middle, last]);
  });
});
