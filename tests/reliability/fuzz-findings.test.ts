/** Regression tests for what the fuzzer (tests/fuzz/run) found. */
import assert from 'node:assert/strict';
import { eventually, startTestServer, type TestServer } from '../helpers/test-host.js';

describe('reliability: regressions found by fuzzing', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'fuzz-findings', plugins: ['audit', 'flow', 'http', 'sales'] }); });
  after(async () => { await t?.stop(); });

  it('GET /api/executions answers a cursor it never handed out with 400, not 500', async () => {
    for (const cursor of ['%C3%B7', 'bm90LWEtY3Vyc29y', 'x'.repeat(200), Buffer.from('2026-01-01T00:00:00.000Z').toString('base64url')]) {
      const response = await t.request<{ error: { code: string; details: Array<{ path: string }> } }>('get', `/api/executions?cursor=${cursor}`, { as: 'viewer' });
      assert.equal(response.status, 400, `${cursor}: ${response.text}`);
      assert.equal(response.body.error.code, 'VALIDATION_FAILED');
      assert.equal(response.body.error.details[0]?.path, 'query.cursor');
    }
  });

  it('GET /api/executions takes back the cursors it hands out (they were longer than its own schema allowed)', async () => {
    const created = await t.request('post', '/api/workflows', { as: 'manager', body: { id: 'paged', name: 'paged', trigger: { type: 'flow.manual@1' }, steps: [{ id: 'note', action: 'flow.log@1', input: { message: 'paged' } }] } });
    assert.equal(created.status, 201, created.text);
    for (let i = 0; i < 3; i++) assert.equal((await t.request('post', '/api/workflows/paged/run', { as: 'manager', body: { payload: { i } } })).status, 202);
    await eventually(async () => (await t.request<{ items: unknown[] }>('get', '/api/executions?workflowId=paged', { as: 'viewer' })).body.items.length === 3);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.request<{ items: Array<{ id: string }>; nextCursor?: string }>('get', `/api/executions?workflowId=paged&limit=1${cursor ? `&cursor=${cursor}` : ''}`, { as: 'viewer' });
      assert.equal(page.status, 200, page.text);
      seen.push(...page.body.items.map((e) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor && seen.length < 10);
    assert.equal(new Set(seen).size, 3);
  });

  it('GET /api/reports/sales/reports answers a cursor with an impossible date with 400, not 500', async () => {
    const cursor = encodeURIComponent('8404-90-27T7982.7Z|x');
    const response = await t.request<{ error: { code: string } }>('get', `/api/reports/sales/reports?cursor=${cursor}`, { as: 'owner' });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.error.code, 'VALIDATION_FAILED');
  });

  it('the audit export declares both media types it answers with (NDJSON and CSV)', async () => {
    const doc = (await t.request<{ paths: Record<string, { get: { responses: Record<string, { content: Record<string, unknown> }> } }> }>('get', '/api/openapi.json')).body;
    assert.deepEqual(Object.keys(doc.paths['/api/audit/export']?.get.responses['200']?.content ?? {}).sort(), ['application/x-ndjson', 'text/csv']);
    const csv = await t.request('get', '/api/audit/export?format=csv', { as: 'owner' });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
  });
});
