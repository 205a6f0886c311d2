import assert from 'node:assert/strict';
import { nextEvent, type TestServer } from '../../helpers/test-host.js';
import { get, ingest, settled, startAnalytics, type IngestResult } from './harness.js';

type ErrorBody = { error: { code: string; details?: unknown } };

const FIGURE_ROUTES = ['overview', 'messages', 'delivery-rates', 'consent', 'workflows', 'templates', 'funnel'];
const ALL_GET_ROUTES = [...FIGURE_ROUTES.map((r) => `/api/analytics/${r}`), '/api/analytics/realtime', '/api/analytics/events'];

describe('plugin analytics: routes', function () {
  // Rollup reads and flushes wait on FerretDB, which slows down several times on a busy machine.
  this.timeout(90_000);
  let t: TestServer;
  before(async () => { t = await startAnalytics('an-routes', { pluginSettings: { analytics: { retentionDays: 3_650 } } }); });
  after(async () => { await t.stop(); });

  describe('POST /api/analytics/events', () => {
    it('stores each event once and says what happened to each, in order', async () => {
      const events = [
        { id: 'web-1', type: 'web.visit', occurredAt: '2026-01-10T10:15:00Z', dimensions: { campaignId: 'spring' } },
        { id: 'web-2', type: 'web.visit', occurredAt: '2026-01-10T11:15:00Z' },
        { id: 'web-1', type: 'web.visit', occurredAt: '2026-01-10T10:15:00Z', dimensions: { campaignId: 'spring' } },
      ];
      const first = await ingest(t, events);
      assert.deepEqual(first.results.map((r) => r.outcome), ['accepted', 'accepted', 'duplicate']);
      assert.deepEqual([first.accepted, first.duplicates, first.rejected], [2, 1, 0]);
      const again = await ingest(t, events);
      assert.deepEqual(again.results.map((r) => r.outcome), ['duplicate', 'duplicate', 'duplicate']);
      await settled(t);
      const overview = await get<{ byType: Array<{ type: string; count: number }> }>(t, '/api/analytics/overview?from=2026-01-10&to=2026-01-11');
      assert.deepEqual(overview.byType, [{ type: 'web.visit', count: 2, sum: 0 }]);
    });

    it('refuses events older than the retention or dated in the future, one by one', async () => {
      const result = await ingest(t, [
        { id: 'old-1', type: 'web.visit', occurredAt: '2000-01-01T00:00:00Z' },
        { id: 'future-1', type: 'web.visit', occurredAt: new Date(Date.now() + 86_400_000).toISOString() },
        { id: 'now-1', type: 'web.visit', occurredAt: new Date().toISOString() },
      ]);
      assert.deepEqual(result.results.map((r) => [r.outcome, r.code]), [
        ['rejected', 'ANALYTICS_EVENT_TOO_OLD'], ['rejected', 'ANALYTICS_EVENT_IN_FUTURE'], ['accepted', undefined],
      ]);
    });

    const bad: Array<[string, unknown]> = [
      ['no events', { events: [] }],
      ['an unknown field', { events: [{ id: 'x', type: 'a.b', occurredAt: '2026-01-01T00:00:00Z', extra: 1 }] }],
      ['an unknown top-level field', { events: [{ id: 'x', type: 'a.b', occurredAt: '2026-01-01T00:00:00Z' }], more: true }],
      ['a type without an area', { events: [{ id: 'x', type: 'visit', occurredAt: '2026-01-01T00:00:00Z' }] }],
      ['a date that is not one', { events: [{ id: 'x', type: 'a.b', occurredAt: 'yesterday' }] }],
      ['a dimension key with a dot', { events: [{ id: 'x', type: 'a.b', occurredAt: '2026-01-01T00:00:00Z', dimensions: { 'a.b': 'c' } }] }],
      ['a dimension key starting with $', { events: [{ id: 'x', type: 'a.b', occurredAt: '2026-01-01T00:00:00Z', dimensions: { $set: 'c' } }] }],
      ['a number as dimension value', { events: [{ id: 'x', type: 'a.b', occurredAt: '2026-01-01T00:00:00Z', dimensions: { n: 1 } }] }],
      ['a fractional value', { events: [{ id: 'x', type: 'a.b', occurredAt: '2026-01-01T00:00:00Z', value: 1.5 }] }],
      ['a missing id', { events: [{ type: 'a.b', occurredAt: '2026-01-01T00:00:00Z' }] }],
      ['more than 1,000 events', { events: Array.from({ length: 1_001 }, (_, i) => ({ id: `e${i}`, type: 'a.b', occurredAt: '2026-01-01T00:00:00Z' })) }],
    ];
    for (const [what, body] of bad) {
      it(`answers 400 for ${what}`, async () => {
        const response = await t.request<ErrorBody>('post', '/api/analytics/events', { as: 'manager', body });
        assert.equal(response.status, 400, response.text);
        // The core refuses `$` keys in any body before validation.
        assert.equal(response.body.error.code, what.includes('$') ? 'FORBIDDEN_KEY' : 'VALIDATION_FAILED');
      });
    }

    it('answers 400 for malformed JSON', async () => {
      const response = await t.request<ErrorBody>('post', '/api/analytics/events', { as: 'manager', rawBody: '{"events": [', headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 400);
    });

    it('lets managers ingest, not analysts or anonymous callers', async () => {
      const body = { events: [{ id: 'perm-1', type: 'a.b', occurredAt: new Date().toISOString() }] };
      assert.equal((await t.request('post', '/api/analytics/events', { as: 'analyst', body })).status, 403);
      assert.equal((await t.request('post', '/api/analytics/events', { as: 'agent', body })).status, 403);
      assert.equal((await t.request('post', '/api/analytics/events', { body })).status, 401);
      assert.equal((await t.request<IngestResult>('post', '/api/analytics/events', { as: 'admin', body })).status, 200);
    });
  });

  describe('reading', () => {
    before(async () => {
      await ingest(t, [
        { id: 'm1', type: 'message.sent', occurredAt: '2026-02-03T09:00:00Z', dimensions: { templateName: 'welcome', campaignId: 'c1', phoneNumberId: 'p1' } },
        { id: 'm2', type: 'message.sent', occurredAt: '2026-02-03T09:10:00Z', dimensions: { templateName: 'welcome', campaignId: 'c2', phoneNumberId: 'p1' } },
        { id: 'm3', type: 'message.sent', occurredAt: '2026-02-04T09:00:00Z', dimensions: { templateName: 'promo', campaignId: 'c1', phoneNumberId: 'p1' } },
        { id: 'd1', type: 'message.delivered', occurredAt: '2026-02-03T09:01:00Z', dimensions: { templateName: 'welcome', campaignId: 'c1', phoneNumberId: 'p1', category: 'marketing' } },
        { id: 'd2', type: 'message.delivered', occurredAt: '2026-02-03T09:11:00Z', dimensions: { templateName: 'welcome', campaignId: 'c2', phoneNumberId: 'p1', category: 'marketing' } },
        { id: 'r1', type: 'message.read', occurredAt: '2026-02-03T10:00:00Z', dimensions: { templateName: 'welcome', campaignId: 'c1', phoneNumberId: 'p1' } },
        { id: 'rep1', type: 'message.replied', occurredAt: '2026-02-03T10:05:00Z', dimensions: { templateName: 'welcome', campaignId: 'c1', phoneNumberId: 'p1' } },
        { id: 'k1', type: 'contact.created', occurredAt: '2026-02-02T08:00:00Z', dimensions: { phoneNumberId: 'p1' } },
        { id: 'k2', type: 'contact.created', occurredAt: '2026-02-02T08:00:00Z', dimensions: { phoneNumberId: 'p1' } },
        { id: 'k3', type: 'contact.created', occurredAt: '2026-02-02T08:00:00Z', dimensions: { phoneNumberId: 'p1' } },
        { id: 'o1', type: 'consent.opted_out', occurredAt: '2026-02-03T12:00:00Z', dimensions: { source: 'keyword', keyword: 'STOP' } },
        { id: 'o2', type: 'consent.opted_out', occurredAt: '2026-02-04T12:00:00Z', dimensions: { source: 'api' } },
        { id: 'i1', type: 'consent.opted_in', occurredAt: '2026-02-04T13:00:00Z', dimensions: { source: 'keyword', keyword: 'START' } },
        { id: 'x1', type: 'execution.finished', occurredAt: '2026-02-03T09:00:00Z', dimensions: { workflowId: 'stop-keyword', status: 'succeeded' }, value: 100 },
        { id: 'x2', type: 'execution.finished', occurredAt: '2026-02-03T09:00:00Z', dimensions: { workflowId: 'stop-keyword', status: 'failed' }, value: 300 },
        { id: 'x3', type: 'execution.finished', occurredAt: '2026-02-03T09:00:00Z', dimensions: { workflowId: 'help-keyword', status: 'succeeded' }, value: 50 },
        { id: 'sale1', type: 'sale.recorded', occurredAt: '2026-02-05T09:00:00Z', value: 12_500, dimensions: { currency: 'EUR', campaignId: 'c1', templateName: 'welcome', agentId: 'ag1' } },
        { id: 'sale2', type: 'sale.recorded', occurredAt: '2026-02-05T10:00:00Z', value: 990, dimensions: { currency: 'USD', campaignId: 'c2', agentId: 'ag2' } },
        { id: 'sale3', type: 'sale.recorded', occurredAt: '2026-02-05T11:00:00Z', value: 500, dimensions: { currency: 'USD', campaignId: 'c2', agentId: 'ag2' } },
        { id: 'sale3-void', type: 'sale.voided', occurredAt: '2026-02-06T11:00:00Z', value: 500, dimensions: { currency: 'USD', campaignId: 'c2', agentId: 'ag2' } },
      ]);
      await settled(t);
    });
    const period = 'from=2026-02-01&to=2026-02-08';

    it('overview: headline figures and rates', async () => {
      const body = await get<{ messages: Record<string, number>; rates: Record<string, number | null>; consent: Record<string, number>; workflows: Record<string, number>; contacts: { created: number }; sales: { count: number; byCurrency: unknown[] } }>(t, `/api/analytics/overview?${period}`);
      assert.deepEqual(body.messages, { sent: 3, delivered: 2, read: 1, failed: 0, received: 0, replied: 1 });
      assert.deepEqual(body.rates, { delivery: 0.6667, read: 0.5, reply: 0.3333 });
      assert.deepEqual(body.consent, { optedIn: 1, optedOut: 2 });
      assert.deepEqual(body.workflows, { executions: 3, failed: 1 });
      assert.equal(body.contacts.created, 3);
      // sale3 was voided: net of voids.
      assert.deepEqual(body.sales, { count: 2, byCurrency: [{ currency: 'EUR', count: 1, amount: 12_500 }, { currency: 'USD', count: 1, amount: 990 }] });
    });

    it('messages: a series by day or hour, filtered by a dimension', async () => {
      const daily = await get<{ buckets: Array<{ key: string; sent: number; delivered: number }>; totals: { sent: number } }>(t, `/api/analytics/messages?${period}&campaignId=c1`);
      assert.equal(daily.buckets.length, 7);
      assert.deepEqual(daily.buckets.filter((b) => b.sent).map((b) => [b.key, b.sent, b.delivered]), [['2026-02-03', 1, 1], ['2026-02-04', 1, 0]]);
      const hourly = await get<{ buckets: Array<{ key: string; sent: number }> }>(t, '/api/analytics/messages?from=2026-02-03T00:00:00Z&to=2026-02-04T00:00:00Z&interval=hour');
      assert.equal(hourly.buckets.length, 24);
      assert.equal(hourly.buckets.find((b) => b.key === '2026-02-03T09:00:00.000Z')?.sent, 2);
    });

    it('delivery-rates: rates per bucket and in total', async () => {
      const body = await get<{ totals: Record<string, number | null>; buckets: Array<{ key: string; deliveryRate: number | null }> }>(t, `/api/analytics/delivery-rates?${period}&category=marketing`);
      assert.deepEqual(body.totals, { sent: 0, delivered: 2, read: 0, failed: 0, deliveryRate: null, readRate: 0, failureRate: null });
      const all = await get<{ totals: Record<string, number | null> }>(t, `/api/analytics/delivery-rates?${period}`);
      assert.equal(all.totals.deliveryRate, 0.6667);
    });

    it('consent: over time, by source and by keyword', async () => {
      const body = await get<{ totals: unknown; bySource: unknown; byKeyword: unknown }>(t, `/api/analytics/consent?${period}`);
      assert.deepEqual(body.totals, { optedIn: 1, optedOut: 2 });
      assert.deepEqual(body.bySource, [{ source: 'api', optedIn: 0, optedOut: 1 }, { source: 'keyword', optedIn: 1, optedOut: 1 }]);
      assert.deepEqual(body.byKeyword, [{ keyword: 'START', optedIn: 1, optedOut: 0 }, { keyword: 'STOP', optedIn: 0, optedOut: 1 }]);
    });

    it('workflows: executions, failures and average duration per workflow', async () => {
      const body = await get<{ items: unknown }>(t, `/api/analytics/workflows?${period}`);
      assert.deepEqual(body.items, [
        { workflowId: 'help-keyword', executions: 1, succeeded: 1, failed: 0, cancelled: 0, failureRate: 0, averageDurationMs: 50 },
        { workflowId: 'stop-keyword', executions: 2, succeeded: 1, failed: 1, cancelled: 0, failureRate: 0.5, averageDurationMs: 200 },
      ]);
      const one = await get<{ items: unknown[] }>(t, `/api/analytics/workflows?${period}&workflowId=help-keyword`);
      assert.equal(one.items.length, 1);
    });

    it('templates: sent, read and replied per template', async () => {
      const body = await get<{ items: Array<Record<string, unknown>> }>(t, `/api/analytics/templates?${period}`);
      assert.deepEqual(body.items, [
        { templateName: 'promo', sent: 1, delivered: 0, read: 0, failed: 0, replied: 0, readRate: null, replyRate: 0 },
        { templateName: 'welcome', sent: 2, delivered: 2, read: 1, failed: 0, replied: 1, readRate: 0.5, replyRate: 0.5 },
      ]);
    });

    it('funnel: contact → message → reply → sale, with sale amounts, and per campaign', async () => {
      const body = await get<{ stages: Array<{ name: string; count: number; fromPrevious: number | null; fromFirst: number | null }>; sales: unknown }>(t, `/api/analytics/funnel?${period}`);
      assert.deepEqual(body.stages.map((s) => [s.name, s.count, s.fromPrevious, s.fromFirst]), [
        ['contact', 3, null, null], ['message', 3, 1, 1], ['reply', 1, 0.3333, 0.3333], ['sale', 2, 2, 0.6667],
      ]);
      const c1 = await get<{ stages: Array<{ count: number }>; sales: unknown }>(t, `/api/analytics/funnel?${period}&campaignId=c1`);
      assert.deepEqual(c1.stages.map((s) => s.count), [0, 2, 1, 1]);
      assert.deepEqual(c1.sales, [{ currency: 'EUR', count: 1, amount: 12_500 }]);
    });

    it('events: raw events newest first, by type and period, page by page', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page: { items: Array<{ id: string }>; nextCursor?: string } = await get(t, `/api/analytics/events?type=message.sent&from=2026-02-01T00:00:00Z&to=2026-02-08T00:00:00Z&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, ['m3', 'm2', 'm1']);
    });

    it('answers 400 for a bad cursor, an unknown zone, a reversed or too long period, unknown parameters and bad values', async () => {
      const cases: Array<[string, string]> = [
        ['/api/analytics/events?cursor=bm90LWEtY3Vyc29y', 'ANALYTICS_CURSOR_INVALID'],
        [`/api/analytics/overview?${period}&tz=Mars/Olympus`, 'ANALYTICS_TIME_ZONE_UNKNOWN'],
        ['/api/analytics/messages?from=2026-02-08&to=2026-02-01', 'ANALYTICS_PERIOD_INVALID'],
        ['/api/analytics/messages?from=2026-01-01&to=2026-03-01&interval=hour', 'ANALYTICS_PERIOD_TOO_LONG'],
        ['/api/analytics/funnel?from=2010-01-01&to=2026-03-01', 'ANALYTICS_PERIOD_TOO_LONG'],
        [`/api/analytics/overview?${period}&campaignId=c1`, 'VALIDATION_FAILED'],
        [`/api/analytics/messages?${period}&interval=week`, 'VALIDATION_FAILED'],
        ['/api/analytics/messages?from=yesterday', 'VALIDATION_FAILED'],
        ['/api/analytics/realtime?minutes=61', 'VALIDATION_FAILED'],
        ['/api/analytics/events?limit=0', 'VALIDATION_FAILED'],
        ['/api/analytics/events?type=NotAType', 'VALIDATION_FAILED'],
      ];
      for (const [path, code] of cases) {
        const response = await t.request<ErrorBody>('get', path, { as: 'analyst' });
        assert.equal(response.status, 400, `${path}: ${response.text}`);
        assert.equal(response.body.error.code, code, path);
      }
    });

    it('lets analysts and above read, not viewers or anonymous callers', async () => {
      for (const path of ALL_GET_ROUTES) {
        assert.equal((await t.request('get', path, { as: 'viewer' })).status, 403, path);
        assert.equal((await t.request('get', path)).status, 401, path);
        assert.equal((await t.request('get', path, { as: 'analyst' })).status, 200, path);
        assert.equal((await t.request('get', path, { as: 'owner' })).status, 200, path);
      }
    });
  });

  describe('realtime', () => {
    it('answers the last minutes and pushes them on the analytics topic to analysts only', async () => {
      const analyst = await t.socket({ as: 'analyst' });
      const viewer = await t.socket({ as: 'viewer' });
      assert.deepEqual((await analyst.emitWithAck('subscribe', ['analytics']) as { subscribed: string[] }).subscribed, ['analytics']);
      assert.equal((await viewer.emitWithAck('subscribe', ['analytics']) as { denied: Array<{ topic: string }> }).denied[0]?.topic, 'analytics');
      let viewerGotOne = false;
      viewer.on('analytics.realtime', () => { viewerGotOne = true; });
      const pushed = nextEvent<{ totals: Record<string, number>; minutes: unknown[] }>(analyst, 'analytics.realtime', 5_000, (p) => (p.totals['live.tick'] ?? 0) === 3);
      await ingest(t, [0, 1, 2].map((i) => ({ id: `tick-${i}`, type: 'live.tick', occurredAt: new Date().toISOString() })));
      const snapshot = await pushed;
      assert.equal(snapshot.minutes.length, 5);
      const answered = await get<{ totals: Record<string, number>; minutes: unknown[] }>(t, '/api/analytics/realtime?minutes=10');
      assert.equal(answered.minutes.length, 10);
      assert.equal(answered.totals['live.tick'], 3);
      assert.equal(viewerGotOne, false);
    });

    it('does not push again while nothing is counted', async () => {
      const analyst = await t.socket({ as: 'analyst' });
      await analyst.emitWithAck('subscribe', ['analytics']);
      await new Promise((r) => setTimeout(r, 700));
      let pushes = 0;
      analyst.on('analytics.realtime', () => { pushes++; });
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(pushes, 0);
    });
  });

  it('the retention job deletes raw events past the retention and keeps their counts', async () => {
    const { AnalyticsEventModel } = await import('../../../plugins/analytics/models/analytics-event.js');
    const { Scheduler } = await import('../../../core/index.js');
    const events = t.server.get(AnalyticsEventModel.token);
    await ingest(t, [{ id: 'aged-1', type: 'aged.fact', occurredAt: '2024-06-01T00:00:00Z' }]);
    await settled(t);
    // Age it past the 10-year test retention, as if years went by.
    await events.updateOne({ _id: 'aged-1' }, { $set: { occurredAt: new Date('2000-06-01T00:00:00Z') } });
    await t.server.get(Scheduler).now('analytics.prune-events', {});
    const { eventually } = await import('../../helpers/test-host.js');
    await eventually(async () => (await events.countDocuments({ _id: 'aged-1' })) === 0, 10_000);
    const overview = await get<{ byType: Array<{ type: string; count: number }> }>(t, '/api/analytics/overview?from=2024-05-01&to=2024-07-01');
    assert.deepEqual(overview.byType.map((b) => [b.type, b.count]), [['aged.fact', 1]]);
  });

  it('publishes its routes in the OpenAPI document', async () => {
    const doc = await get<{ paths: Record<string, Record<string, unknown>> }>(t, '/api/openapi.json', 'viewer');
    for (const path of ['/api/analytics/events', ...FIGURE_ROUTES.map((r) => `/api/analytics/${r}`), '/api/analytics/realtime']) assert.ok(doc.paths[path], path);
    assert.ok(doc.paths['/api/analytics/events']?.post);
  });
});
