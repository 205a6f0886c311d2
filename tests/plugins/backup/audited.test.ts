import assert from 'node:assert/strict';
import { Scheduler } from '../../../core/index.js';
import { eventually } from '../../helpers/test-host.js';
import { startBackupServer, type BackupTestServer } from './backup-test-kit.js';

describe('plugin backup: audit trail of backups outside API requests', function () {
  this.timeout(60_000);
  let t: BackupTestServer;
  before(async () => { t = await startBackupServer('audited', { plugins: ['audit', 'flow', 'http', 'schedule', 'hello', 'backup'] }); });
  after(async () => { await t.stop(); });

  it('records a scheduled backup in the audit log, with its outcome, though no request made it', async () => {
    await t.server.get(Scheduler).now('backup.run', {});
    const entries = await eventually(async () => {
      const list = await t.request<{ items: Array<{ action: string; actor: { kind: string }; resource: { type: string; id?: string } }> }>('get', '/api/audit/logs?action=backup.backup.succeeded', { as: 'owner' });
      return list.body.items?.length ? list.body.items : null;
    }, 30_000);
    assert.equal(entries[0]?.resource.type, 'backup');
    assert.ok(entries[0]?.resource.id);
    assert.equal(entries[0]?.actor.kind, 'system');
  });
});
