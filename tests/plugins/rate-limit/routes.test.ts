import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import { nextEvent } from '../../helpers/test-host.js';
import { PHONE_NUMBER_ID } from '../../doubles/whatsapp-payloads.js';
import { newPhone, startRate, template, type RateHarness } from './harness.js';

interface ApiError { error: { code: string; message: string } }
interface SenderView { phoneNumberId: string; paused: boolean; limits: { perSecond: number; hourly: number | null; daily: number | null; warningThreshold: number }; usage: { hour: number } }
interface Warning { phoneNumberId: string; portfolio: string | null; limit: string; used: number; cap: number; threshold: number }
interface AuditEntry { action: string; resource: { type: string; id?: string }; details?: Record<string, unknown> }

const OTHER = '300001';
const WARNED = '300002';

describe('plugin rate: routes', () => {
  let h: RateHarness;
  before(async () => {
    h = await startRate('rate-routes', { whatsapp: { senders: [OTHER, WARNED].map((phoneNumberId) => ({ phoneNumberId })) }, rate: { senders: { [OTHER]: { hourly: 500 } } } });
  });
  after(async () => { await h.stop(); });

  it('documents the six routes with their permissions in the OpenAPI document', async () => {
    const doc = await h.t.request<{ paths: Record<string, Record<string, { 'x-permission': string }>> }>('get', '/api/openapi.json');
    const permission = (path: string, method: string) => doc.body.paths[path]?.[method]?.['x-permission'];
    assert.deepEqual([
      permission('/api/rate-limits', 'get'), permission('/api/rate-limits/{phoneNumberId}', 'get'), permission('/api/rate-limits/{phoneNumberId}', 'put'),
      permission('/api/rate-limits/{phoneNumberId}/pause', 'post'), permission('/api/rate-limits/{phoneNumberId}/resume', 'post'), permission('/api/rate-limits/{phoneNumberId}/reset', 'post'),
    ], ['rate-limits:read', 'rate-limits:read', 'rate-limits:write', 'rate-limits:write', 'rate-limits:write', 'rate-limits:write']);
  });

  it('lists every sender number with cursor pagination, config caps included', async () => {
    const first = await h.t.request<{ items: SenderView[]; nextCursor?: string }>('get', '/api/rate-limits?limit=2', { as: 'analyst' });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.items.map((s) => s.phoneNumberId), [PHONE_NUMBER_ID, OTHER].sort().slice(0, 2));
    const rest = await h.t.request<{ items: SenderView[]; nextCursor?: string }>('get', `/api/rate-limits?limit=2&cursor=${first.body.nextCursor}`, { as: 'analyst' });
    const all = [...first.body.items, ...rest.body.items].map((s) => s.phoneNumberId);
    assert.deepEqual(all, [PHONE_NUMBER_ID, OTHER, WARNED].sort());
    assert.equal(rest.body.nextCursor, undefined);
    const other = first.body.items.concat(rest.body.items).find((s) => s.phoneNumberId === OTHER) as SenderView;
    assert.deepEqual(other.limits, { perSecond: 80, hourly: 500, daily: null, warningThreshold: 0.8 });
  });

  it('reads need rate-limits:read (analyst and up); changes need rate-limits:write (admin)', async () => {
    assert.equal((await h.t.request('get', '/api/rate-limits')).status, 401);
    assert.equal((await h.t.request('get', '/api/rate-limits', { as: 'viewer' })).status, 403);
    assert.equal((await h.t.request('get', `/api/rate-limits/${OTHER}`, { as: 'viewer' })).status, 403);
    assert.equal((await h.t.request('get', `/api/rate-limits/${OTHER}`, { as: 'analyst' })).status, 200);
    for (const [method, path, body] of [
      ['put', `/api/rate-limits/${OTHER}`, { perSecond: 10 }], ['post', `/api/rate-limits/${OTHER}/pause`, {}],
      ['post', `/api/rate-limits/${OTHER}/resume`, undefined], ['post', `/api/rate-limits/${OTHER}/reset`, undefined],
    ] as const) {
      const denied = await h.t.request<ApiError>(method, path, { as: 'manager', body });
      assert.equal(denied.status, 403, `${method} ${path} as manager`);
      assert.equal((await h.t.request(method, path, { as: 'admin', body })).status, 200, `${method} ${path} as admin`);
    }
  });

  it('changes limits, removes a cap with null, and audits every change', async () => {
    const changed = await h.t.request<SenderView>('put', `/api/rate-limits/${OTHER}`, { as: 'admin', body: { perSecond: 250, daily: 9000, hourly: null, warningThreshold: 0.9 } });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body.limits, { perSecond: 250, hourly: null, daily: 9000, warningThreshold: 0.9 });
    assert.deepEqual((await h.t.request<SenderView>('get', `/api/rate-limits/${OTHER}`, { as: 'analyst' })).body.limits, changed.body.limits);
    const audit = await h.t.request<{ items: AuditEntry[] }>('get', `/api/audit/logs?action=${encodeURIComponent('PUT /api/rate-limits/:phoneNumberId')}`, { as: 'owner' });
    assert.ok(audit.body.items.length >= 1, 'the change is in the audit log');
    const pauses = await h.t.request<{ items: AuditEntry[] }>('get', `/api/audit/logs?action=${encodeURIComponent('POST /api/rate-limits/:phoneNumberId/pause')}`, { as: 'owner' });
    assert.ok(pauses.body.items.length >= 1);
  });

  describe('bad input', () => {
    const cases: Array<[string, string, string, unknown, number, string?]> = [
      ['unknown field', 'put', `/api/rate-limits/${OTHER}`, { perSecond: 10, burst: 3 }, 400],
      ['wrong type', 'put', `/api/rate-limits/${OTHER}`, { perSecond: 'fast' }, 400],
      ['throughput above 1,000', 'put', `/api/rate-limits/${OTHER}`, { perSecond: 1001 }, 400],
      ['throughput of 0', 'put', `/api/rate-limits/${OTHER}`, { perSecond: 0 }, 400],
      ['no change at all', 'put', `/api/rate-limits/${OTHER}`, {}, 400],
      ['unknown tier', 'put', `/api/rate-limits/${OTHER}`, { tier: 'TIER_5' }, 400],
      ['threshold above 1', 'put', `/api/rate-limits/${OTHER}`, { warningThreshold: 1.5 }, 400],
      ['negative cap', 'put', `/api/rate-limits/${OTHER}`, { hourly: -3 }, 400],
      ['sender id not digits', 'get', '/api/rate-limits/abc', undefined, 400],
      ['unknown sender', 'get', '/api/rate-limits/999999', undefined, 404, 'RATE_SENDER_UNKNOWN'],
      ['unknown sender on change', 'post', '/api/rate-limits/999999/reset', undefined, 404, 'RATE_SENDER_UNKNOWN'],
      ['pause end not a date', 'post', `/api/rate-limits/${OTHER}/pause`, { until: 'tomorrow' }, 400],
      ['pause end in the past', 'post', `/api/rate-limits/${OTHER}/pause`, { until: '2020-01-01T00:00:00Z' }, 422, 'RATE_PAUSE_IN_PAST'],
      ['pause without a body', 'post', `/api/rate-limits/${OTHER}/pause`, undefined, 400],
      ['list limit 0', 'get', '/api/rate-limits?limit=0', undefined, 400],
      ['unknown query parameter', 'get', '/api/rate-limits?tier=TIER_2K', undefined, 400],
    ];
    for (const [name, method, path, body, status, code] of cases) {
      it(`${name}: ${status}`, async () => {
        const response = await h.t.request<ApiError>(method, path, { as: 'admin', body });
        assert.equal(response.status, status, response.text);
        if (code) assert.equal(response.body.error.code, code);
      });
    }

    it('malformed JSON: 400', async () => {
      const response = await h.t.request<ApiError>('put', `/api/rate-limits/${OTHER}`, { as: 'admin', rawBody: '{"perSecond": ', headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 400);
    });
  });

  describe('warnings', () => {
    let analyst: Socket;
    before(async () => {
      analyst = await h.t.socket({ as: 'analyst' });
      assert.deepEqual((await analyst.emitWithAck('subscribe', ['rate-limits']) as { subscribed: string[] }).subscribed, ['rate-limits']);
    });

    it('a viewer may not subscribe to rate-limits', async () => {
      const viewer = await h.t.socket({ as: 'viewer' });
      assert.equal((await viewer.emitWithAck('subscribe', ['rate-limits']) as { denied: unknown[] }).denied.length, 1);
    });

    it('warns once per window at the threshold: socket event, audit entry and metric', async () => {
      await h.t.request('put', `/api/rate-limits/${WARNED}`, { as: 'admin', body: { hourly: 4, warningThreshold: 0.5 } });
      // Start right after the hour window rolled so that all three sends share one window.
      const hourMs = 2500;
      await new Promise((r) => setTimeout(r, hourMs - (Date.now() % hourMs) + 20));
      const warnings: Warning[] = [];
      analyst.on('rate.warning', (w: Warning) => { if (w.phoneNumberId === WARNED) warnings.push(w); });
      const first = nextEvent<Warning>(analyst, 'rate.warning', 3000, (w) => w.phoneNumberId === WARNED);
      for (let i = 0; i < 3; i++) assert.equal((await h.t.request('post', '/api/messages', { as: 'agent', body: template(newPhone(), WARNED) })).status, 201);
      const warning = await first;
      assert.deepEqual({ limit: warning.limit, used: warning.used, cap: warning.cap, threshold: warning.threshold }, { limit: 'hourly', used: 2, cap: 4, threshold: 0.5 });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(warnings.length, 1, 'one warning per window, not one per send');
      const audit = await h.t.request<{ items: AuditEntry[] }>('get', '/api/audit/logs?action=rate.warning', { as: 'owner' });
      assert.ok(audit.body.items.some((e) => e.resource.id === WARNED), 'the warning is in the audit log');
      const metrics = await h.t.request('get', '/metrics');
      assert.match(metrics.text, /^flowgate_rate_limit_warnings_total\{limit="hourly"\} 1$/m);
      analyst.off('rate.warning');
    });

    it('announces pause and resume on the topic', async () => {
      const paused = nextEvent<{ phoneNumberId: string; by: string }>(analyst, 'rate.paused', 3000, (e) => e.phoneNumberId === OTHER);
      await h.t.request('post', `/api/rate-limits/${OTHER}/pause`, { as: 'admin', body: {} });
      assert.equal((await paused).by, 'test-admin');
      const resumed = nextEvent(analyst, 'rate.resumed', 3000);
      await h.t.request('post', `/api/rate-limits/${OTHER}/resume`, { as: 'admin' });
      await resumed;
    });
  });
});
