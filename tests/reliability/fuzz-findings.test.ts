/** Regression tests for what the fuzzer (tests/fuzz/run) found. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../core/logging/logger.js';
import { eventually, startTestServer, type TestServer } from '../helpers/test-host.js';
import { startFullServer, type FullServer } from './full-server.js';

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

describe('reliability: regressions found by fuzzing the full server', () => {
  let s: FullServer;
  const logLines: string[] = [];
  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => logLines.push(chunk.toString()));
    s = await startFullServer({ label: 'fuzz-findings-full', logger: createLogger({ level: 'debug', stream }) });
  });
  after(async () => { await s?.stop(); });
  const call = <T>(method: string, path: string, body?: unknown) => s.t.call<T>(method, path, s.ownerToken, body);

  it('the analytics figures answer a period boundary outside the years they can bucket with 400 ANALYTICS_PERIOD_INVALID, not 500', async () => {
    const boundaries = ['0155-12-17T20:05:27-21:27', '0155-12-17T20:05:27Z', '0001-01-01', '2026-01-01T00:00:00+23:59', '1969-12-31T23:00:00Z', '9999-12-31'];
    for (const path of ['/api/analytics/consent', '/api/analytics/overview', '/api/analytics/messages', '/api/analytics/funnel']) {
      for (const value of boundaries) {
        for (const name of ['from', 'to']) {
          const response = await call<{ error: { code: string } }>('get', `${path}?${name}=${encodeURIComponent(value)}`);
          assert.equal(response.status, 400, `${path} ${name}=${value}: ${response.text}`);
          assert.equal(response.body.error.code, 'ANALYTICS_PERIOD_INVALID', `${path} ${name}=${value}`);
        }
      }
    }
    for (const value of ['2026-06-30T23:59:60Z', '0155-12-17T20:05:27-21:27']) {
      const events = await call<{ error: { code: string } }>('get', `/api/analytics/events?to=${encodeURIComponent(value)}`);
      assert.equal(events.status, 400, `/api/analytics/events to=${value}: ${events.text}`);
      assert.equal(events.body.error.code, 'ANALYTICS_PERIOD_INVALID');
    }
    const fine = await call('get', `/api/analytics/consent?from=${encodeURIComponent('2026-01-01T00:00:00+14:00')}&to=2026-01-05`);
    assert.equal(fine.status, 200, fine.text);
  });

  it('POST /api/messages refuses template components that are not Graph API components with 400 naming the path, not 500', async () => {
    const garbage: unknown[] = [
      [{ '\ud991\udcbf\u00fa,\u00d9': [2.99e-211, {}, { x: 2092 }], 'W.\ud8e6\udefe': { '': 1.77e161 }, '': null }],
      [{}],
      [{ type: 'body', parameters: [{ type: 'text', text: 'x' }], extra: [1, [2]] }],
      [{ type: 'button', parameters: 'not-a-list' }],
    ];
    for (const components of garbage) {
      const response = await call<{ error: { code: string; details: Array<{ path: string }> } }>('post', '/api/messages', {
        to: 'RW.bcy6', template: { name: 'm7c', language: 'en_US', components },
      });
      const logged = logLines.filter((line) => line.includes((response.body as { error: { requestId?: string } }).error.requestId ?? '-')).join('');
      assert.equal(response.status, 400, `${JSON.stringify(components)}: ${response.text}\n${logged}`);
      assert.equal(response.body.error.code, 'VALIDATION_FAILED');
      assert.match(response.body.error.details[0]?.path ?? '', /^body\.template\.components\[0\]/, response.text);
    }
    assert.ok(!logLines.some((line) => /"status":5\d\d/.test(line)), 'no 5xx was logged');
  });
});
