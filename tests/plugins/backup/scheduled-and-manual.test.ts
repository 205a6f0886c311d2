/**
 * The scheduled backup (Agenda job `backup.run`, run by whichever process picks it up) and a
 * manual `POST /api/backups` on two processes sharing the database, Redis and BACKUP_DIR: one
 * archive results, the other is refused with 409 or skipped.
 */
import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { Scheduler } from '../../../core/index.js';
import { eventually } from '../../helpers/test-host.js';
import { holdBackupWrites, startBackupServer, type BackupTestServer, type Hold } from './backup-test-kit.js';

interface ErrorBody { error: { code: string; message: string } }
interface ListView { items: Array<{ id: string; trigger: string }> }

describe('plugin backup: a scheduled backup and a manual one on two processes', function () {
  this.timeout(60_000);
  let first: BackupTestServer;
  let second: BackupTestServer;
  before(async () => {
    first = await startBackupServer('backup_two_processes');
    second = await startBackupServer('backup_two_processes_b', { mongodbUri: first.mongodbUri, backupDir: first.backupDir });
    await first.db.collection('proberecords').insertMany(Array.from({ length: 200 }, (_, i) => ({ i })));
  });
  after(async () => {
    await second?.stop();
    await first?.stop();
  });

  const archives = async () => (await first.request<ListView>('get', '/api/backups?limit=100', { as: 'admin' })).body.items;
  /** Holds the backups of both processes, since either may pick up the job. */
  const holdBoth = (): Hold => {
    const holds = [holdBackupWrites(first), holdBackupWrites(second)];
    return {
      reached: Promise.race(holds.map((h) => h.reached)),
      release: () => holds.forEach((h) => h.release()),
      undo: () => holds.forEach((h) => h.undo()),
    };
  };
  /** Waits until Agenda has run job `id` to its end; its failure, if any. */
  const jobFinished = (id: string) => eventually(async () => {
    const job = await first.db.collection('agendaJobs').findOne({ _id: new BSON.ObjectId(id) });
    return job?.lastFinishedAt ? { failReason: (job.failReason as string | null | undefined) ?? null } : null;
  }, 30_000);

  it('a manual backup on either process while the scheduled one runs gets 409 BACKUP_IN_PROGRESS; one archive results', async () => {
    const before = await archives();
    const hold = holdBoth();
    let job: string;
    try {
      job = await first.server.get(Scheduler).now('backup.run', {});
      await hold.reached;
      for (const t of [first, second]) {
        const refused = await t.request<ErrorBody>('post', '/api/backups', { as: 'admin' });
        assert.equal(refused.status, 409, refused.text);
        assert.equal(refused.body.error.code, 'BACKUP_IN_PROGRESS');
      }
    } finally {
      hold.undo();
    }
    assert.equal((await jobFinished(job)).failReason, null);
    const made = (await archives()).filter((a) => !before.some((b) => b.id === a.id));
    assert.deepEqual(made.map((a) => a.trigger), ['schedule']);
  });

  it('the scheduled backup that comes while a manual one runs on the other process is skipped; one archive results', async () => {
    const before = await archives();
    const hold = holdBackupWrites(first);
    const manual = first.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
    try {
      await hold.reached;
      const job = await second.server.get(Scheduler).now('backup.run', {});
      assert.equal((await jobFinished(job)).failReason, null, 'the skipped run is not a failure');
    } finally {
      hold.undo();
      await manual;
    }
    const done = await manual;
    assert.equal(done.status, 201, done.text);
    const made = (await archives()).filter((a) => !before.some((b) => b.id === a.id));
    assert.deepEqual(made.map((a) => a.id), [done.body.id]);
    assert.equal(made[0]?.trigger, 'api');
  });
});
