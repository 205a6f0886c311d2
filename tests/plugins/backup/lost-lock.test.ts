/**
 * A backup or restore whose Redis lock disappears while it runs (Redis restarted without
 * persistence, or the process stalled past lockTtlMs) must stop rather than run alongside the
 * operation that may have taken the lock meanwhile.
 */
import assert from 'node:assert/strict';
import { Maintenance, RedisConnection, type RedisLock } from '../../../core/index.js';
import { eventually, type HttpResult } from '../../helpers/test-host.js';
import { holdBackupWrites, holdRestoreLoads, snapshot, startBackupServer, type BackupTestServer } from './backup-test-kit.js';

interface ErrorBody { error: { code: string; message: string } }
interface BackupView { id: string }

const LOCK = 'backup:lock';

describe('plugin backup: an operation that loses its lock', function () {
  this.timeout(60_000);
  let t: BackupTestServer;
  let redis: RedisConnection;
  before(async () => {
    t = await startBackupServer('backup_lost_lock');
    redis = t.server.get(RedisConnection);
    await t.db.collection('proberecords').insertMany(Array.from({ length: 500 }, (_, i) => ({ i, payload: 'x'.repeat(100) })));
  });
  after(async () => { await t.stop(); });

  const listed = async () => (await t.request<{ items: BackupView[] }>('get', '/api/backups?limit=100', { as: 'admin' })).body.items.map((b) => b.id);

  it('a backup whose lock key vanishes midway is abandoned with 500 BACKUP_FAILED and leaves no archive', async () => {
    const before = await listed();
    const hold = holdBackupWrites(t);
    let answer: HttpResult<ErrorBody> | undefined;
    const request = t.request<ErrorBody>('post', '/api/backups', { as: 'admin' }).then((response) => { answer = response; });
    try {
      await hold.reached;
      // What Redis restarting without persistence does to the lock.
      await redis.client.del(`${redis.keyPrefix}${LOCK}`);
      // The dump is still held: only noticing the lost lock can end the request.
      const abandoned = await eventually(async () => answer, 15_000);
      assert.equal(abandoned.status, 500, abandoned.text);
      assert.equal(abandoned.body.error.code, 'BACKUP_FAILED');
      assert.match(abandoned.body.error.message, /lost the backup lock/);
    } finally {
      hold.undo();
      await request;
    }
    assert.deepEqual(await listed(), before, 'the abandoned backup is not listed');
    const next = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    assert.equal(next.status, 201, next.text);
  });

  it('a restore whose lock another operation took before the swap stops there: 500, data as it was, maintenance off', async () => {
    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    await t.db.collection('proberecords').insertOne({ i: 'written after the backup' });
    const before = await snapshot(t.db);
    const plan = await t.request<{ confirmation: string }>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: {} });
    assert.equal(plan.status, 200, plan.text);

    const hold = holdRestoreLoads(t.db);
    let intruder: RedisLock | null = null;
    try {
      const restore = t.request<ErrorBody>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
      await hold.reached;
      // The key expires (here: is deleted) and another process's backup takes the lock.
      await redis.client.del(`${redis.keyPrefix}${LOCK}`);
      intruder = await redis.tryLock(LOCK, 60_000, 'backup by another process');
      assert.ok(intruder, 'the lock was free for another process');
      hold.release();
      const stopped = await restore;
      assert.equal(stopped.status, 500, stopped.text);
      assert.equal(stopped.body.error.code, 'BACKUP_RESTORE_FAILED');
      assert.match(stopped.body.error.message, /rolled back, the data is as it was: .*lost the backup lock/);
    } finally {
      hold.undo();
      await intruder?.release();
    }
    assert.deepEqual(await snapshot(t.db), before, 'nothing was swapped');
    assert.equal(t.server.get(Maintenance).state.active, false, 'maintenance mode is off again');
    const write = await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'After the stopped restore' } });
    assert.equal(write.status, 201, write.text);
  });

  it('a restore that lost its lock leaves maintenance mode on for another restore of the live database that now holds it', async () => {
    const made = await t.request<BackupView>('post', '/api/backups', { as: 'admin' });
    assert.equal(made.status, 201, made.text);
    const plan = await t.request<{ confirmation: string }>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: {} });
    const hold = holdRestoreLoads(t.db);
    let intruder: RedisLock | null = null;
    try {
      const restore = t.request<ErrorBody>('post', `/api/backups/${made.body.id}/restore`, { as: 'owner', body: { dryRun: false, confirm: plan.body.confirmation } });
      await hold.reached;
      const holder = await redis.lockHolder(LOCK);
      await redis.client.del(`${redis.keyPrefix}${LOCK}`);
      // Another process's restore of the live database, labelled as this one labels itself.
      intruder = await redis.tryLock(LOCK, 60_000, holder?.replace(made.body.id, 'another') ?? '');
      hold.release();
      assert.equal((await restore).status, 500);
      assert.equal(t.server.get(Maintenance).state.active, true, 'the other restore is still protected by maintenance mode');
    } finally {
      hold.undo();
      await intruder?.release();
      await t.server.get(Maintenance).exit();
    }
  });
});
