import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Scheduler } from '../../../core/index.js';
import { eventually } from '../../helpers/test-host.js';
import { startBackupServer, type BackupTestServer } from './backup-test-kit.js';

interface ScheduleView { enabled: boolean; every?: string; timezone?: string; keepLast?: number; nextRunAt: string | null }
interface ListView { items: Array<{ id: string; trigger: string }>; schedule: ScheduleView }

describe('plugin backup: schedule and retention', () => {
  let t: BackupTestServer;
  before(async () => { t = await startBackupServer('backup_schedule'); });
  after(async () => { await t.stop(); });

  const ids = async () => (await t.request<ListView>('get', '/api/backups?limit=100', { as: 'admin' })).body.items.map((b) => b.id);

  it('stores the schedule and enacts it as one recurring Agenda job', async () => {
    const set = await t.request<ScheduleView>('put', '/api/backups/schedule', { as: 'admin', body: { enabled: true, every: '0 3 * * *', timezone: 'Europe/Paris', keepLast: 5 } });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.every, '0 3 * * *');
    assert.ok(set.body.nextRunAt && new Date(set.body.nextRunAt) > new Date());
    assert.equal(new Date(set.body.nextRunAt).getUTCMinutes(), 0);
    const again = await t.request<ScheduleView>('put', '/api/backups/schedule', { as: 'admin', body: { enabled: true, every: '6 hours', keepLast: 5 } });
    assert.equal(again.status, 200);
    const jobs = await t.server.get(Scheduler).list('backup.run');
    assert.equal(jobs.length, 1, 'replacing the schedule leaves one job');
    assert.equal(jobs[0]?.repeatInterval, '6 hours');
    assert.deepEqual((await t.request<ListView>('get', '/api/backups', { as: 'admin' })).body.schedule, again.body);

    const off = await t.request<ScheduleView>('put', '/api/backups/schedule', { as: 'admin', body: { enabled: false } });
    assert.equal(off.body.enabled, false);
    assert.equal(off.body.nextRunAt, null);
    assert.equal(off.body.every, '6 hours', 'switching off keeps the interval for next time');
    assert.equal((await t.server.get(Scheduler).list('backup.run')).length, 0);
  });

  it('keeps the schedule across a restart', async () => {
    await t.request('put', '/api/backups/schedule', { as: 'admin', body: { enabled: true, every: '1 day', keepLast: 3 } });
    const restarted = await startBackupServer('backup_schedule_restart', { mongodbUri: t.mongodbUri, backupDir: t.backupDir });
    try {
      const view = (await restarted.request<ListView>('get', '/api/backups', { as: 'admin' })).body.schedule;
      assert.equal(view.enabled, true);
      assert.equal(view.every, '1 day');
      assert.equal(view.keepLast, 3);
    } finally {
      await restarted.stop();
    }
  });

  it('the backup.run job makes a scheduled backup', async () => {
    const before = await ids();
    await t.server.get(Scheduler).now('backup.run', {});
    const list = await eventually(async () => {
      const body = (await t.request<ListView>('get', '/api/backups?limit=100', { as: 'admin' })).body;
      return body.items.length > before.length ? body : null;
    });
    assert.equal(list.items[0]?.trigger, 'schedule');
  });

  it('retention deletes the oldest archives after each successful backup', async () => {
    await t.request('put', '/api/backups/schedule', { as: 'admin', body: { enabled: true, every: '1 day', keepLast: 2 } });
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' })).body.id);
    assert.deepEqual(await ids(), [made[2], made[1]]);
    assert.equal(existsSync(join(t.backupDir, made[0] as string)), false);
  });
});
