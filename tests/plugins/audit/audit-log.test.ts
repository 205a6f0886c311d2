import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Action, RunContext } from '../../../core/index.js';
import { projectRoot } from '../../../core/paths.js';
import { eventually, nextEvent } from '../../helpers/test-host.js';
import { verifyExportFile } from '../../../plugins/audit/offline.js';
import { RetentionPruner } from '../../../plugins/audit/retention.js';
import { startAuditServer, type AuditTestServer } from './audit-host.js';

type Entry = { id: string; seq: number; action: string; actor: { kind: string; id: string; role?: string; workflowId?: string }; resource: { type: string; id?: string }; subject?: string; summary: { before?: unknown; after?: Record<string, unknown> }; status?: number; ip?: string; requestId?: string; seal?: { digestNo: number; hash: string } };
type Page = { items: Entry[]; nextCursor?: string };
const PHONE = '+4915112345678';

describe('audit: the log, its routes, the workflow action and export', () => {
  let t: AuditTestServer;
  before(async () => { t = await startAuditServer('auditlog'); });
  after(async () => { await t?.stop(); });

  it('records every answered mutating API call with actor, route, status, ip and request id, secrets removed', async () => {
    const response = await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Ada' }, headers: { 'x-request-id': 'req-audit-1' } });
    assert.equal(response.status, 201);
    // Written once the response is out, so the caller never waits for the audit log.
    const entry = await eventually(async () => (await t.request<Page>('get', '/api/audit/logs?action=POST%20/api/hello/greetings', { as: 'manager' })).body.items.find((e) => e.requestId === 'req-audit-1'));
    assert.deepEqual(entry.actor, { kind: 'user', id: 'test-agent', role: 'agent' });
    assert.equal(entry.status, 201);
    assert.equal(entry.resource.type, 'hello');
    assert.match(entry.ip ?? '', /127\.0\.0\.1/);
    assert.deepEqual(entry.summary.after, { name: 'Ada' });
  });

  it('keeps customers only as pseudonyms, and finds them by phone', async () => {
    await t.log.record({
      actor: { kind: 'user', id: 'u-2' }, action: 'consent.revoked', resource: { type: 'contact' }, subject: { kind: 'phone', value: PHONE },
      after: { phone: PHONE, note: `customer ${PHONE.slice(1)} said STOP`, to: '15550009999', apiToken: 'sk_live_123', nested: { recipients: ['15550001111'] } },
    });
    const raw = JSON.stringify(await t.entries.find({ action: 'consent.revoked' }).toArray());
    for (const secret of [PHONE.slice(1), '15550009999', '15550001111', 'sk_live_123']) assert.equal(raw.includes(secret), false, `${secret} is stored in clear`);
    const found = await t.request<Page>(`get`, `/api/audit/logs?phone=${encodeURIComponent(PHONE)}`, { as: 'manager' });
    assert.equal(found.body.items.length, 1);
    const entry = found.body.items[0] as Entry;
    assert.match(entry.subject ?? '', /^ps_[a-f0-9]{32}$/);
    assert.equal(entry.summary.after?.phone, entry.subject, 'the same customer gets the same pseudonym');
    assert.equal(entry.summary.after?.apiToken, '[redacted]');
  });

  it('filters by actor, resource and time, and pages with a cursor', async () => {
    await t.record(5, { actor: { kind: 'apiKey', id: 'key-7', role: 'manager' }, resource: { type: 'widget' } });
    const byActor = await t.request<Page>('get', '/api/audit/logs?actorKind=apiKey&actorId=key-7&limit=2', { as: 'manager' });
    assert.equal(byActor.body.items.length, 2);
    assert.ok(byActor.body.nextCursor);
    const next = await t.request<Page>(`get`, `/api/audit/logs?actorId=key-7&limit=10&cursor=${byActor.body.nextCursor}`, { as: 'manager' });
    assert.equal(next.body.items.length, 3);
    assert.ok((next.body.items[0]?.seq ?? 0) < (byActor.body.items[1]?.seq ?? 0), 'newest first, no overlap');
    const future = await t.request<Page>(`get`, `/api/audit/logs?resourceType=widget&from=${new Date(Date.now() + 60_000).toISOString()}`, { as: 'manager' });
    assert.equal(future.body.items.length, 0);
    const byResource = await t.request<Page>('get', '/api/audit/logs?resourceType=widget', { as: 'manager' });
    assert.equal(byResource.body.items.length, 5);
    const byId = await t.request<Page>('get', '/api/audit/logs?resourceType=thing&resourceId=0', { as: 'manager' });
    assert.ok(byId.body.items.every((e) => e.resource.id === '0'));
  });

  it("lists a user's history and shows one entry with its seal once sealed", async () => {
    await t.request('post', '/api/hello/greetings', { as: 'manager', body: { name: 'Grace' } });
    const history = await eventually(async () => {
      const page = await t.request<Page>('get', '/api/audit/users/test-manager', { as: 'manager' });
      return page.body.items.length ? page : null;
    });
    assert.ok(history.body.items.every((e) => e.actor.id === 'test-manager'));
    const id = history.body.items[0]?.id as string;
    assert.equal((await t.request<Entry>(`get`, `/api/audit/logs/${id}`, { as: 'manager' })).body.seal, undefined);
    await t.sealAll();
    const sealed = await t.request<Entry>(`get`, `/api/audit/logs/${id}`, { as: 'manager' });
    assert.ok(sealed.body.seal && sealed.body.seal.digestNo >= 1 && /^[a-f0-9]{64}$/.test(sealed.body.seal.hash), JSON.stringify(sealed.body));
    assert.equal((await t.request('get', '/api/audit/logs/no-such-entry', { as: 'manager' })).status, 404);
  });

  it('offers no way to change or delete entries over the API', () => {
    const audit = t.server.contributions.routes.filter((r) => r.route.path.startsWith('/api/audit'));
    assert.equal(audit.length, 5);
    assert.deepEqual(audit.filter((r) => r.route.method !== 'get'), []);
  });

  it('rejects bad filters with 400', async () => {
    for (const query of ['cursor=abc', 'limit=0', 'limit=500', 'actorKind=robot', 'from=yesterday', 'unknown=1', `phone=${encodeURIComponent(PHONE)}&customerId=c1`, 'phone=12']) {
      const response = await t.request('get', `/api/audit/logs?${query}`, { as: 'manager' });
      assert.equal(response.status, 400, `${query}: ${response.text}`);
    }
    assert.equal((await t.request('get', '/api/audit/export?format=xml', { as: 'admin' })).status, 400);
    assert.equal((await t.request('get', `/api/audit/export?from=${new Date().toISOString()}&to=2020-01-01T00:00:00Z`, { as: 'admin' })).status, 400);
  });

  it('audit.record@1 writes one entry per step, as the workflow execution, with the customer pseudonymized', async () => {
    const registered = t.server.contributions.actions.get('audit.record@1');
    assert.ok(registered);
    const action = t.server.container.get(registered.contribution.impl) as Action<unknown, { id: string; seq: number; simulated?: boolean }>;
    const ctx = { executionId: 'exec-1', workflowId: 'stop-keyword', stepId: 'audit', idempotencyKey: 'exec-1:audit', simulate: false, attempt: 1, logger: t.server.logger, signal: new AbortController().signal } satisfies RunContext;
    const input = { action: 'consent.revoked', resource: { type: 'contact' }, subject: { phone: PHONE }, details: { keyword: 'STOP' } };
    const first = await action.execute(input, ctx);
    const retried = await action.execute(input, { ...ctx, attempt: 2 });
    assert.equal(retried.output.id, first.output.id);
    // The repeat took a sequence number it did not use: the sealed chain still verifies.
    await t.sealAll();
    const report = await t.verify();
    assert.equal(report.ok, true, JSON.stringify(report));
    const entry = (await t.request<Entry>(`get`, `/api/audit/logs/${first.output.id}`, { as: 'manager' })).body;
    assert.deepEqual(entry.actor, { kind: 'workflow', id: 'exec-1', workflowId: 'stop-keyword' });
    assert.equal(entry.subject, t.log.pseudonym('phone', PHONE));
    const simulated = await action.execute(input, { ...ctx, simulate: true, idempotencyKey: 'exec-2:audit' });
    assert.equal(simulated.output.simulated, true);
    assert.equal(await t.entries.countDocuments({ 'actor.id': 'exec-2' }), 0);
  });

  it('announces entries and seals on the audit topic to managers only', async () => {
    const manager = await t.socket({ as: 'manager' });
    const analyst = await t.socket({ as: 'analyst' });
    assert.deepEqual((await manager.emitWithAck('subscribe', ['audit']) as { subscribed: string[] }).subscribed, ['audit']);
    assert.deepEqual((await analyst.emitWithAck('subscribe', ['audit']) as { subscribed: string[] }).subscribed, []);
    const entry = nextEvent<{ action: string }>(manager, 'audit.entry', 5_000, (e) => e.action === 'socket.test');
    const sealed = nextEvent<{ digestNo: number }>(manager, 'audit.sealed', 5_000);
    await t.record(1, { action: 'socket.test' });
    await entry;
    await t.sealAll();
    assert.ok((await sealed).digestNo >= 1);
  });

  it('exports NDJSON and CSV with their digests, which verify offline, and a doctored export does not', async () => {
    await t.record(3);
    await t.sealAll();
    const dir = mkdtempSync(join(tmpdir(), 'audit-export-'));
    for (const format of ['ndjson', 'csv'] as const) {
      const response = await t.request('get', `/api/audit/export?format=${format}`, { as: 'admin' });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', format === 'csv' ? /text\/csv/ : /ndjson/);
      const file = join(dir, `export.${format}`);
      writeFileSync(file, response.text);
      const report = await verifyExportFile(file, Buffer.from('s'.repeat(32)));
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.ok(report.entriesChecked >= 10 && report.digestsChecked >= 1);
    }
    const ndjson = readFileSync(join(dir, 'export.ndjson'), 'utf8').split('\n');
    const index = ndjson.findIndex((line) => line.includes('"type":"entry"') && line.includes('Grace'));
    ndjson[index] = (ndjson[index] as string).replace('Grace', 'Mallory');
    writeFileSync(join(dir, 'doctored.ndjson'), ndjson.join('\n'));
    const doctored = await verifyExportFile(join(dir, 'doctored.ndjson'));
    assert.equal(doctored.ok, false);
    assert.equal(doctored.modified.length, 1);
    // The standalone checker needs no services at all.
    const script = join(projectRoot, 'dist/plugins/audit/verify-export.js');
    const env = { PATH: process.env.PATH ?? '', FLOWGATE_AUDIT_SIGNING_KEY: 's'.repeat(32) };
    assert.equal(spawnSync(process.execPath, [script, join(dir, 'export.csv')], { env }).status, 0);
    const failed = spawnSync(process.execPath, [script, join(dir, 'doctored.ndjson')], { env, encoding: 'utf8' });
    assert.equal(failed.status, 1);
    assert.equal(JSON.parse(failed.stdout).modified.length, 1);
    // A period export covers whole digests and still verifies.
    const recent = await t.request('get', `/api/audit/export?from=${new Date(Date.now() - 2_000).toISOString()}`, { as: 'admin' });
    writeFileSync(join(dir, 'recent.ndjson'), recent.text);
    assert.equal((await verifyExportFile(join(dir, 'recent.ndjson'))).ok, true);
  });

  it('prunes old digests with their entries and stays verifiable from the checkpoint', async () => {
    await t.record(2);
    await t.sealAll();
    const before = await t.entries.countDocuments();
    const result = await t.server.get(RetentionPruner).prune(new Date(Date.now() + 1_000));
    assert.ok(result.digests >= 1 && result.entries >= 1);
    const remaining = await t.entries.find().toArray();
    assert.equal(remaining.length, before - result.entries + 1, 'only the prune entry itself remains');
    assert.equal(remaining[0]?.action, 'audit.retention.pruned');
    await t.record(2);
    await t.sealAll();
    const report = await t.request<{ ok: boolean; entriesChecked: number }>('get', '/api/audit/verify', { as: 'admin' });
    assert.equal(report.status, 200);
    assert.equal(report.body.ok, true, JSON.stringify(report.body));
    assert.equal(report.body.entriesChecked, 3);
    assert.equal((await t.request('get', '/api/audit/verify', { as: 'manager' })).status, 403);
  });
});
