import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBackupServer, type BackupTestServer } from './backup-test-kit.js';

interface ErrorBody { error: { code: string; message: string } }
interface BackupView { id: string; download: string; collections: Array<{ name: string; sha256: string }> }

/** Reads a ustar stream back into its files, checking each header's checksum. */
function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const text = (start: number, length: number) => header.toString('ascii', start, start + length).replace(/\0.*$/s, '');
    const stored = parseInt(text(148, 8).trim(), 8);
    const sum = [...header].reduce((total, byte, i) => total + (i >= 148 && i < 156 ? 32 : byte), 0);
    assert.equal(sum, stored, 'header checksum');
    assert.equal(text(257, 5), 'ustar');
    const size = parseInt(text(124, 12), 8);
    files.set(`${text(345, 155)}/${text(0, 100)}`, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('plugin backup: routes over HTTP', () => {
  let t: BackupTestServer;
  let backup: BackupView;
  before(async () => {
    t = await startBackupServer('backup_routes');
    await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Ada' } });
    backup = (await t.request<BackupView>('post', '/api/backups', { as: 'admin' })).body;
  });
  after(async () => { await t.stop(); });

  it('lists backups newest first with a cursor, sizes, counts and checksums', async () => {
    const second = (await t.request<BackupView>('post', '/api/backups', { as: 'admin' })).body;
    const first = await t.request<{ items: BackupView[]; nextCursor?: string; schedule: { enabled: boolean } }>('get', '/api/backups?limit=1', { as: 'admin' });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.items.map((b) => b.id), [second.id]);
    assert.equal(first.body.schedule.enabled, false);
    const next = await t.request<{ items: BackupView[]; nextCursor?: string }>('get', `/api/backups?limit=1&cursor=${first.body.nextCursor}`, { as: 'admin' });
    assert.deepEqual(next.body.items.map((b) => b.id), [backup.id]);
    const one = await t.request<BackupView>('get', `/api/backups/${backup.id}`, { as: 'admin' });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, backup);
  });

  it('streams the archive as a tar whose files match the manifest\'s checksums', async () => {
    const response = await fetch(`${t.url}${backup.download}`, { headers: { authorization: 'Bearer role:admin' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-tar');
    assert.match(response.headers.get('content-disposition') ?? '', new RegExp(`flowgate-backup-${backup.id}\\.tar`));
    const tar = Buffer.from(await response.arrayBuffer());
    assert.equal(Number(response.headers.get('content-length')), tar.length);
    const files = untar(tar);
    const manifest = files.get(`${backup.id}/manifest.json`);
    assert.ok(manifest);
    assert.deepEqual(manifest, readFileSync(join(t.backupDir, backup.id, 'manifest.json')));
    const parsed = JSON.parse(manifest.toString()) as { collections: Array<{ file: string; sha256: string }> };
    for (const entry of parsed.collections) {
      const content = files.get(`${backup.id}/${entry.file}`);
      assert.ok(content, entry.file);
      assert.equal(createHash('sha256').update(content).digest('hex'), entry.sha256);
    }
  });

  it('checks permissions: admins back up, read and schedule; only owners restore; agents get nothing', async () => {
    const cases: Array<[string, string, string, number, unknown?]> = [
      ['agent', 'get', '/api/backups', 403],
      ['manager', 'post', '/api/backups', 403],
      ['manager', 'get', `/api/backups/${backup.id}`, 403],
      ['manager', 'get', `/api/backups/${backup.id}/archive`, 403],
      ['admin', 'post', `/api/backups/${backup.id}/restore`, 403, {}],
      ['manager', 'put', '/api/backups/schedule', 403, { enabled: false }],
      ['owner', 'post', `/api/backups/${backup.id}/restore`, 200, {}],
      ['admin', 'put', '/api/backups/schedule', 200, { enabled: false }],
    ];
    for (const [role, method, path, status, body] of cases) {
      const response = await t.request<ErrorBody>(method, path, { as: role, body });
      assert.equal(response.status, status, `${role} ${method} ${path}: ${response.text}`);
      if (status === 403) assert.equal(response.body.error.code, 'FORBIDDEN');
    }
    assert.equal((await t.request('get', '/api/backups')).status, 401);
    assert.equal((await t.request('get', `/api/backups/${backup.id}/archive`)).status, 401);
  });

  it('refuses ids that are not backup ids, including path traversal, with 400; unknown ids with 404', async () => {
    for (const bad of ['..', '..%2F..%2Fetc%2Fpasswd', '%2E%2E', '20261126T070230123Z-a1b2c3%2F..', '.draft-20261126T070230123Z-a1b2c3', 'manifest.json', '20261126T070230123Z-A1B2C3']) {
      for (const [method, suffix, body] of [['get', '', undefined], ['get', '/archive', undefined], ['post', '/restore', {}]] as const) {
        const response = await t.request<ErrorBody>(method, `/api/backups/${bad}${suffix}`, { as: 'owner', body });
        assert.ok(response.status === 400 || response.status === 404, `${method} ${bad}${suffix} answered ${response.status}`);
        if (response.status === 400) assert.equal(response.body.error.code, 'VALIDATION_FAILED');
      }
    }
    const traversal = await t.request<ErrorBody>('get', '/api/backups/..%2F..%2Fetc', { as: 'owner' });
    assert.equal(traversal.status, 400);
    for (const [method, suffix, body] of [['get', '', undefined], ['get', '/archive', undefined], ['post', '/restore', {}]] as const) {
      const missing = await t.request<ErrorBody>(method, `/api/backups/20200101T000000000Z-abcdef${suffix}`, { as: 'owner', body });
      assert.equal(missing.status, 404, `${method} ${suffix}`);
      assert.equal(missing.body.error.code, 'NOT_FOUND');
    }
    const badCursor = await t.request<ErrorBody>('get', '/api/backups?cursor=../x', { as: 'admin' });
    assert.equal(badCursor.status, 400);
  });

  it('refuses malformed restore and schedule bodies with 4xx', async () => {
    const restore = `/api/backups/${backup.id}/restore`;
    const bodies: Array<[string, string, unknown, number, string]> = [
      ['post', restore, { dryRun: 'no' }, 400, 'VALIDATION_FAILED'],
      ['post', restore, { unknown: true }, 400, 'VALIDATION_FAILED'],
      ['post', restore, { targetDatabase: 'admin' }, 400, 'VALIDATION_FAILED'],
      ['post', restore, { targetDatabase: 'a/b' }, 400, 'VALIDATION_FAILED'],
      ['put', '/api/backups/schedule', { every: '1 day' }, 400, 'VALIDATION_FAILED'],
      ['put', '/api/backups/schedule', { enabled: true, keepLast: 0 }, 400, 'VALIDATION_FAILED'],
      ['put', '/api/backups/schedule', { enabled: true, every: '1 day', extra: 1 }, 400, 'VALIDATION_FAILED'],
      ['put', '/api/backups/schedule', { enabled: true }, 422, 'BACKUP_SCHEDULE_INVALID'],
      ['put', '/api/backups/schedule', { enabled: true, every: 'whenever you like' }, 422, 'BACKUP_SCHEDULE_INVALID'],
      ['put', '/api/backups/schedule', { enabled: true, every: '0 3 * * *', timezone: 'Mars/Olympus' }, 422, 'BACKUP_SCHEDULE_INVALID'],
    ];
    for (const [method, path, body, status, code] of bodies) {
      const response = await t.request<ErrorBody>(method, path, { as: 'owner', body });
      assert.equal(response.status, status, `${JSON.stringify(body)}: ${response.text}`);
      assert.equal(response.body.error.code, code);
    }
    const malformed = await t.request<ErrorBody>('post', restore, { as: 'owner', rawBody: '{"dryRun": tru', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    const wrongType = await t.request<ErrorBody>('post', restore, { as: 'owner', rawBody: 'dryRun=false', headers: { 'content-type': 'text/plain' } });
    assert.equal(wrongType.status, 415);
  });

  it('runs one backup or restore at a time and says so with 409', async () => {
    const [a, b] = await Promise.all([
      t.request<ErrorBody>('post', '/api/backups', { as: 'admin' }),
      t.request<ErrorBody>('post', '/api/backups', { as: 'admin' }),
    ]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [201, 409]);
    const refused = a.status === 409 ? a : b;
    assert.equal(refused.body.error.code, 'BACKUP_IN_PROGRESS');
    assert.match(refused.body.error.message, /\(backup /, 'the 409 names the operation holding the lock');
  });

  it('documents every backup route in the OpenAPI document', async () => {
    const doc = await t.request<{ paths: Record<string, Record<string, { 'x-permission': string }>> }>('get', '/api/openapi.json');
    assert.equal(doc.body.paths['/api/backups']?.post?.['x-permission'], 'backups:create');
    assert.equal(doc.body.paths['/api/backups']?.get?.['x-permission'], 'backups:read');
    assert.equal(doc.body.paths['/api/backups/{id}']?.get?.['x-permission'], 'backups:read');
    assert.equal(doc.body.paths['/api/backups/{id}/archive']?.get?.['x-permission'], 'backups:read');
    assert.equal(doc.body.paths['/api/backups/{id}/restore']?.post?.['x-permission'], 'backups:restore');
    assert.equal(doc.body.paths['/api/backups/schedule']?.put?.['x-permission'], 'backups:schedule');
  });
});
