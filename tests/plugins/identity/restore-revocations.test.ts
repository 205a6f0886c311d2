/**
 * Restoring a backup taken before an API key was revoked keeps the key revoked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentityServer, type IdentityTestServer } from './identity-host.js';

describe('identity: a restore and revoked API keys', () => {
  let t: IdentityTestServer;
  const dir = mkdtempSync(join(tmpdir(), 'restore-revocations-'));
  before(async () => {
    t = await startIdentityServer({ label: 'restore-revocations', plugins: ['audit', 'identity', 'backup'], pluginSettings: { backup: { dir, lockTtlMs: 2000 } } });
  });
  after(async () => { await t?.stop(); rmSync(dir, { recursive: true, force: true }); });

  it('keeps a key revoked after restoring a backup taken before the revocation', async () => {
    const { owner } = await t.roleUsers();
    const created = await t.call<{ id: string; key: string }>('post', '/api/api-keys', owner.accessToken, { name: 'integration', role: 'admin' });
    assert.equal(created.status, 201, created.text);
    const asKey = () => t.request('get', '/api/users', { headers: { 'x-api-key': created.body.key } });
    assert.equal((await asKey()).status, 200);
    // Nightly backup; the next morning the key leaks and is revoked.
    const backup = await t.call<{ id: string }>('post', '/api/backups', owner.accessToken);
    assert.equal(backup.status, 201, backup.text);
    assert.equal((await t.call('delete', `/api/api-keys/${created.body.id}`, owner.accessToken)).status, 204);
    assert.equal((await asKey()).status, 401, 'revoked');
    // Later, an unrelated mistake is repaired by restoring last night's backup.
    const plan = await t.call<{ confirmation: string }>('post', `/api/backups/${backup.body.id}/restore`, owner.accessToken, {});
    assert.equal(plan.status, 200, plan.text);
    const restored = await t.call('post', `/api/backups/${backup.body.id}/restore`, owner.accessToken, { dryRun: false, confirm: plan.body.confirmation });
    assert.equal(restored.status, 200, restored.text);
    const after = await asKey();
    assert.equal(after.status, 401, `the leaked, revoked key works again after the restore: ${after.status} ${after.text.slice(0, 200)}`);
  });
});
