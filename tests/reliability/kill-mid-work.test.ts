import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoConnection } from '../../core/index.js';
import { MessageModel } from '../../plugins/whatsapp/models/message.js';
import { GraphApiDouble } from '../doubles/graph-api.js';
import { PHONE_NUMBER_ID } from '../doubles/whatsapp-payloads.js';
import { startServerProcess, stopAfterEach } from '../helpers/server-process.js';
import { eventually, startTestServer, STATIC_AUTH_PLUGIN, uniqueDatabaseUri } from '../helpers/test-host.js';
import { PROBE_PLUGIN as BACKUP_PROBE_PLUGIN } from '../plugins/backup/backup-test-kit.js';
import { ACCESS_TOKEN, APP_SECRET } from '../plugins/whatsapp/harness.js';

const manager = { authorization: 'Bearer role:manager', 'content-type': 'application/json' };

describe('reliability: a server process killed with SIGKILL', function () {
  this.timeout(120_000);
  const track = stopAfterEach();

  describe('mid bulk send', () => {
    const graph = new GraphApiDouble();
    before(async () => { await graph.start(); graph.acceptedTokens = [ACCESS_TOKEN]; });
    after(async () => { await graph.stop(); });

    it('is finished by another process: nobody gets the message twice, an unanswered call is marked unknown, not resent', async () => {
      const env = { WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_API_URL: graph.url };
      const settings = { whatsapp: { sendPolicies: ['whatsapp.window@1'], bulk: { concurrency: 2, leaseMs: 2_000, maxRecipients: 100 } } };
      const mongodbUri = uniqueDatabaseUri('kill_bulk');
      const victim = track(await startServerProcess({ mongodbUri, plugins: [STATIC_AUTH_PLUGIN, 'whatsapp'], env: { ...env, FLOWGATE__pluginSettings: JSON.stringify(settings) } }));
      graph.delayMs = 80;
      const recipients = Array.from({ length: 40 }, (_, i) => `+4478100${String(i).padStart(5, '0')}`);
      const started = await fetch(`${victim.url}/api/messages/bulk`, { method: 'POST', headers: manager, body: JSON.stringify({ template: { name: 'spring_sale', language: 'en_US' }, recipients }) });
      assert.equal(started.status, 202);
      const { campaign } = await started.json() as { campaign: { id: string } };
      await eventually(async () => graph.sends.length >= 10, 20_000, 10);
      await victim.kill('SIGKILL');
      const sentBeforeKill = graph.sends.length;

      Object.assign(process.env, env);
      const t = track(await startTestServer({ label: 'kill_bulk', plugins: ['whatsapp'], mongodbUri, pluginSettings: settings }));
      const done = await eventually(async () => {
        const p = await t.request<{ campaign: { state: string; done: number; counts: Record<string, number> } }>('get', `/api/messages/bulk/${campaign.id}`, { as: 'agent' });
        return p.body.campaign.state === 'completed' ? p.body.campaign : null;
      }, 60_000, 250);
      graph.delayMs = 0;
      assert.ok(graph.sends.length > sentBeforeKill, 'the survivor sent the rest');
      assert.equal(done.done, 40);
      const perRecipient = new Map<string, number>();
      for (const send of graph.sends) perRecipient.set(String(send.body.to), (perRecipient.get(String(send.body.to)) ?? 0) + 1);
      assert.deepEqual([...perRecipient].filter(([, n]) => n > 1), [], 'nobody twice');
      // Calls in flight at the kill reached the double but their answer was lost: unknown, not resent.
      const messages = await t.server.get(MongoConnection).model(MessageModel).find({ campaignId: campaign.id }).lean();
      const unknown = messages.filter((m) => m.status === 'unknown');
      assert.ok(unknown.length <= 2, `at most the in-flight calls are unknown (${unknown.length})`);
      const neverCalled = unknown.filter((m) => !perRecipient.has(`+${m.phone}`)).length;
      assert.equal(perRecipient.size + neverCalled, 40, 'everyone else got the message once');
      assert.equal(messages.filter((m) => m.status === 'accepted').length + unknown.length, 40);
    });
  });

  describe('mid backup', () => {
    let backupDir: string;
    before(() => { backupDir = mkdtempSync(join(tmpdir(), 'flowgate-kill-backup-')); });
    after(() => { rmSync(backupDir, { recursive: true, force: true }); });

    it('leaves no archive listed; another process backs up after the lock expires and the archive verifies', async () => {
      const mongodbUri = uniqueDatabaseUri('kill_backup');
      const plugins = ['flow', 'http', 'schedule', 'hello', 'backup', BACKUP_PROBE_PLUGIN];
      const victim = track(await startServerProcess({ mongodbUri, plugins: [STATIC_AUTH_PLUGIN, ...plugins], env: { BACKUP_DIR: backupDir, FLOWGATE__pluginSettings__backup__lockTtlMs: '2000' } }));
      const t = track(await startTestServer({ label: 'kill_backup', plugins, mongodbUri, pluginSettings: { backup: { dir: backupDir, lockTtlMs: 2000 } } }));
      const db = t.server.get(MongoConnection).connection.db;
      assert.ok(db);
      await db.collection('proberecords').insertMany(Array.from({ length: 15_000 }, (_, i) => ({ i, payload: randomBytes(64).toString('hex') })));
      const request = fetch(`${victim.url}/api/backups`, { method: 'POST', headers: { authorization: 'Bearer role:admin' } }).catch((error: Error) => error);
      const draft = await eventually(async () => {
        const name = readdirSync(backupDir).find((n) => n.startsWith('.draft-'));
        if (!name) return null;
        return readdirSync(join(backupDir, name)).some((f) => statSync(join(backupDir, name, f)).size > 0) ? name : null;
      }, 30_000, 10);
      await victim.kill('SIGKILL');
      assert.ok((await request) instanceof Error, 'the caller saw the connection drop');
      const killedId = draft.replace('.draft-', '');
      const listed = await t.request<{ items: Array<{ id: string }> }>('get', '/api/backups?limit=100', { as: 'admin' });
      assert.ok(!listed.body.items.some((b) => b.id === killedId), 'the killed backup is not listed');

      const next = await eventually(async () => {
        const response = await t.request<{ id: string }>('post', '/api/backups', { as: 'admin' });
        return response.status === 201 ? response.body : null;
      }, 15_000, 250);
      assert.ok(!existsSync(join(backupDir, draft)), 'the dead draft was cleaned up');
      const verified = await t.request<{ dryRun: boolean }>('post', `/api/backups/${next.id}/restore`, { as: 'owner', body: {} });
      assert.equal(verified.status, 200, verified.text);
    });
  });
});
