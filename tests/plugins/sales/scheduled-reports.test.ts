import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EngineClock, LoggerToken, MongoConnection, Scheduler } from '../../../core/index.js';
import { GenerateReportAction } from '../../../plugins/sales/actions/generate-report.js';
import { RecordSaleAction } from '../../../plugins/sales/actions/record-sale.js';
import { eventually, nextEvent } from '../../helpers/test-host.js';
import { createWorkflow, ENGINE_PLUGINS, manualWorkflow, runWorkflow, uniqueId } from '../../core/engine/helpers.js';
import { startSalesServer, type SaleView, type SalesTestServer } from './harness.js';

interface ReportView {
  id: string;
  from: string;
  to: string;
  source: { kind: string; id: string };
  summary: { totals: Array<{ currency: string; amount: number; count: number }>; buckets: Array<{ key: string }> };
  breakdown?: { rows: Array<{ key: string | null; currency: string; amount: number }> };
  delivery?: { status: string; attempts: number; httpStatus?: number };
}
interface ScheduleView { id: string; nextRunAt: string | null; deliverTo?: { url: string; headerNames: string[] } }

const DAY = 86_400_000;
const parisDate = (at: Date) => at.toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });

describe('plugin sales: scheduled reports and workflow actions', () => {
  let t: SalesTestServer;
  let receiver: Server;
  let receiverUrl = '';
  const received: Array<{ path: string; headers: IncomingHttpHeaders; body: ReportView }> = [];

  before(async () => {
    t = await startSalesServer('sales_scheduled', { plugins: [...ENGINE_PLUGINS, 'sales'] });
    receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      req.on('end', () => {
        if (req.url === '/down') {
          res.writeHead(503).end('maintenance');
          return;
        }
        received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) as ReportView });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  /** Makes Agenda find the schedule's job due now, as it would at the cron time. */
  const fireNow = async (scheduleId: string) => {
    const db = t.server.get(MongoConnection).connection.db;
    if (!db) throw new Error('no database');
    const moved = await db.collection('agendaJobs').updateOne({ name: 'sales.report', 'data.scheduleId': scheduleId }, { $set: { nextRunAt: new Date(Date.now() - 1000) } });
    assert.equal(moved.matchedCount, 1);
  };

  it('refuses bad schedules with a 4xx', async () => {
    const good = { name: 'daily', cron: '0 6 * * *', window: 'day', timezone: 'Europe/Paris' };
    const cases: Array<[string, unknown, number, string]> = [
      ['unknown field', { ...good, every: 'day' }, 400, 'VALIDATION_FAILED'],
      ['window of a year', { ...good, window: 'year' }, 400, 'VALIDATION_FAILED'],
      ['not a cron', { ...good, cron: 'every morning' }, 422, 'SALES_SCHEDULE_INVALID'],
      ['cron minute out of range', { ...good, cron: '99 6 * * *' }, 422, 'SALES_SCHEDULE_INVALID'],
      ['unknown time zone', { ...good, timezone: 'Europe/Atlantis' }, 400, 'SALES_TIMEZONE_INVALID'],
      ['delivery to a non-HTTP URL', { ...good, deliverTo: { url: 'ftp://example.test/x' } }, 400, 'VALIDATION_FAILED'],
      ['missing name', { cron: good.cron, window: 'day' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [name, body, status, code] of cases) {
      const response = await t.request<{ error: { code: string } }>('post', '/api/reports/sales/schedule', { as: 'manager', body });
      assert.equal(response.status, status, `${name}: ${response.text}`);
      assert.equal(response.body.error.code, code, name);
    }
    for (const role of ['agent', 'analyst']) assert.equal((await t.request('post', '/api/reports/sales/schedule', { as: role, body: good })).status, 403, role);
    assert.deepEqual((await t.server.get(Scheduler).list('sales.report')).length, 0, 'nothing refused was left scheduled');
    assert.equal((await t.request('get', '/api/reports/sales/schedules', { as: 'analyst' })).status, 403);
    assert.equal((await t.request('delete', '/api/reports/sales/schedules/not-a-schedule', { as: 'manager' })).status, 400);
    assert.equal((await t.request('get', '/api/reports/sales/reports', { as: 'viewer' })).status, 403);
    assert.equal((await t.request('get', '/api/reports/sales/reports?cursor=yesterday', { as: 'analyst' })).status, 400);
    assert.equal((await t.request('get', '/api/reports/sales/reports?limit=0', { as: 'analyst' })).status, 400);
  });

  it('a scheduled report fires on the engine clock, is stored, announced on the socket and delivered over HTTP', async () => {
    // Three days ahead of the wall clock: the report's window follows the engine clock, not Date.now().
    const clock = t.server.get(EngineClock);
    clock.advance(3 * DAY);
    const now = clock.now();
    const yesterday = new Date(now.getTime() - DAY);
    const inWindow = [
      await t.sell({ contactPhone: '+33611111111', amount: 1999, currency: 'EUR', agentId: 'ann', soldAt: yesterday.toISOString() }),
      await t.sell({ contactPhone: '+33611111112', amount: 500, currency: 'EUR', agentId: 'bob', soldAt: yesterday.toISOString() }),
      await t.sell({ contactPhone: '+33611111113', amount: 3000, currency: 'JPY', agentId: 'ann', soldAt: yesterday.toISOString() }),
    ];
    await t.sell({ contactPhone: '+33611111114', amount: 7777, currency: 'EUR', agentId: 'ann', soldAt: new Date(now.getTime() - 3 * DAY).toISOString() });
    await t.sell({ contactPhone: '+33611111115', amount: 8888, currency: 'EUR', agentId: 'ann', soldAt: new Date(now.getTime() + DAY).toISOString() });

    const created = await t.request<ScheduleView>('post', '/api/reports/sales/schedule', {
      as: 'manager',
      body: { name: 'daily sales', cron: '0 6 * * *', timezone: 'Europe/Paris', window: 'day', breakdownBy: 'agent', deliverTo: { url: `${receiverUrl}/reports`, headers: { 'x-receiver-token': 'secret-token' } } },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.deliverTo, { url: `${receiverUrl}/reports`, headerNames: ['x-receiver-token'] }, 'header values are not shown');
    const nextRun = new Date(created.body.nextRunAt as string);
    assert.ok(nextRun > new Date());
    assert.equal(nextRun.toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris' }), '06:00:00', 'cron read in the schedule\'s time zone');

    const analyst = await t.socket({ as: 'analyst' });
    const ack = await analyst.emitWithAck('subscribe', ['reports']) as { subscribed: string[] };
    assert.deepEqual(ack.subscribed, ['reports']);
    const viewer = await t.socket({ as: 'viewer' });
    assert.equal(((await viewer.emitWithAck('subscribe', ['reports'])) as { denied: unknown[] }).denied.length, 1);
    const announced = nextEvent<ReportView>(analyst, 'report.generated', 15_000, (r) => r.source.id === created.body.id);
    const delivered = nextEvent<{ id: string; status: string }>(analyst, 'report.delivery', 15_000);
    await fireNow(created.body.id);
    const report = await announced;

    assert.equal(parisDate(new Date(report.from)), parisDate(yesterday));
    assert.equal(new Date(report.to).getTime() - new Date(report.from).getTime() >= 23 * 3_600_000, true);
    const euro = inWindow.filter((s) => s.currency === 'EUR');
    assert.deepEqual(report.summary.totals, [
      { currency: 'EUR', minorUnits: 2, amount: euro.reduce((sum, s) => sum + s.amount, 0), amountDecimal: '24.99', count: 2 },
      { currency: 'JPY', minorUnits: 0, amount: 3000, amountDecimal: '3000', count: 1 },
    ]);
    assert.deepEqual(report.breakdown?.rows.map((r) => [r.key, r.currency, r.amount]), [['ann', 'EUR', 1999], ['bob', 'EUR', 500], ['ann', 'JPY', 3000]]);

    assert.equal((await delivered).status, 'delivered');
    const post = await eventually(async () => received.find((r) => r.body.id === report.id));
    assert.equal(post.path, '/reports');
    assert.equal(post.headers['x-receiver-token'], 'secret-token');
    assert.equal(post.headers['idempotency-key'], `sales-report:${report.id}`);
    assert.deepEqual(post.body.summary, report.summary);

    const stored = await t.request<{ items: ReportView[] }>('get', `/api/reports/sales/reports?scheduleId=${created.body.id}`, { as: 'analyst' });
    assert.equal(stored.body.items.length, 1);
    assert.equal(stored.body.items[0]?.delivery?.status, 'delivered');
    const one = await t.request<ReportView>('get', `/api/reports/sales/reports/${encodeURIComponent(report.id)}`, { as: 'analyst' });
    assert.deepEqual(one.body.summary, report.summary);

    // Agenda placed the next occurrence; running the same window again stores nothing new.
    const after = await eventually(async () => {
      const list = (await t.request<{ items: ScheduleView[] }>('get', '/api/reports/sales/schedules', { as: 'manager' })).body.items;
      const mine = list.find((s) => s.id === created.body.id);
      return mine?.nextRunAt && new Date(mine.nextRunAt) > new Date() ? mine : null;
    });
    assert.ok(after);
    await t.server.get(Scheduler).now('sales.report', { scheduleId: created.body.id });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await t.request<{ items: ReportView[] }>('get', `/api/reports/sales/reports?scheduleId=${created.body.id}`, { as: 'analyst' })).body.items.length, 1);

    const removed = await t.request('delete', `/api/reports/sales/schedules/${created.body.id}`, { as: 'manager' });
    assert.equal(removed.status, 204);
    assert.equal((await t.server.get(Scheduler).list('sales.report')).filter((j) => (j.data as { scheduleId?: string }).scheduleId === created.body.id && j.repeatInterval).length, 0, 'no recurring job left');
    assert.equal((await t.request('delete', `/api/reports/sales/schedules/${created.body.id}`, { as: 'manager' })).status, 404);
    assert.equal((await t.request('get', '/api/reports/sales/reports/nope', { as: 'analyst' })).status, 404);
  });

  it('records a failed delivery on the report after retrying', async () => {
    const created = await t.request<ScheduleView>('post', '/api/reports/sales/schedule', {
      as: 'manager', body: { name: 'to a receiver that is down', cron: '0 7 * * 1', window: 'week', deliverTo: { url: `${receiverUrl}/down` } },
    });
    assert.equal(created.status, 201, created.text);
    const analyst = await t.socket({ as: 'analyst' });
    await analyst.emitWithAck('subscribe', ['reports']);
    const outcome = nextEvent<{ id: string; status: string; attempts: number; httpStatus: number }>(analyst, 'report.delivery', 15_000, (d) => d.id.startsWith(created.body.id));
    await fireNow(created.body.id);
    assert.deepEqual([(await outcome).status, (await outcome).attempts, (await outcome).httpStatus], ['failed', 3, 503]);
    const stored = await t.request<{ items: ReportView[] }>('get', `/api/reports/sales/reports?scheduleId=${created.body.id}`, { as: 'analyst' });
    assert.equal(stored.body.items[0]?.delivery?.status, 'failed');
  });

  it('sales.record@1 credits the lead\'s owner, attributes the execution, and records once per step however often it runs', async () => {
    assert.equal((await t.request('put', '/api/sales/leads/+393331234567', { as: 'manager', body: { ownerAgentId: 'lead-owner' } })).status, 201);
    const id = uniqueId('sell');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'record', action: 'sales.record@1', input: { contactPhone: '{{trigger.phone}}', amount: '{{trigger.amount}}', currency: 'EUR', attribution: { campaignId: 'wf-campaign' } } },
      { id: 'report', action: 'sales.report@1', input: { window: 'day', filters: { workflowId: id } } },
    ]));
    const run = await runWorkflow(t, id, { phone: '+393331234567', amount: 4990 });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    const sale = run.outputs.record as SaleView;
    assert.equal(sale.agentId, 'lead-owner');
    assert.deepEqual(sale.attribution, { campaignId: 'wf-campaign', workflowId: id, executionId: run.id });

    // A resumed execution runs the step again with the same idempotency key.
    const logger = t.server.get(LoggerToken);
    const context = (stepId: string) => ({ executionId: run.id, workflowId: id, stepId, idempotencyKey: `${run.id}:${stepId}`, simulate: false, attempt: 2, logger, signal: new AbortController().signal });
    const again = await t.server.get(RecordSaleAction).execute({ contactPhone: '+393331234567', amount: 4990, currency: 'EUR', attribution: { campaignId: 'wf-campaign' } }, context('record'));
    assert.equal(again.output.id, sale.id);
    const listed = await t.request<{ items: SaleView[] }>('get', `/api/sales?workflowId=${id}`, { as: 'manager' });
    assert.equal(listed.body.items.length, 1);
    assert.deepEqual(new Set(t.analytics.filter((e) => e.type === 'sale.recorded' && e.id.includes(sale.id)).map((e) => e.id)), new Set([`sale.recorded:${sale.id}:1`]), 'one fact, however often reported');
    assert.deepEqual(t.analytics.find((e) => e.id.includes(sale.id))?.dimensions, { agentId: 'lead-owner', currency: 'EUR', campaignId: 'wf-campaign', workflowId: id });

    const firstReport = run.outputs.report as ReportView;
    assert.equal(firstReport.source.kind, 'workflow');
    const secondReport = await t.server.get(GenerateReportAction).execute({ window: 'day', filters: { workflowId: id } }, context('report'));
    assert.equal(secondReport.output.id, firstReport.id);
  });

  it('sales.record@1 fails its step, without retrying, when nobody can be credited or the currency is unknown', async () => {
    const id = uniqueId('nobody');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'record', action: 'sales.record@1', input: { contactPhone: '+393339999999', amount: 100, currency: 'EUR' } }]));
    const run = await runWorkflow(t, id);
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.code, 'SALES_AGENT_UNKNOWN');
    assert.equal(run.steps.length, 1);
    const badCurrency = uniqueId('badcurrency');
    await createWorkflow(t, manualWorkflow(badCurrency, [{ id: 'record', action: 'sales.record@1', input: { contactPhone: '+393339999999', amount: 100, currency: 'ZZZ', agentId: 'x' } }]));
    const failed = await runWorkflow(t, badCurrency);
    assert.equal(failed.error?.code, 'SALES_CURRENCY_INVALID');
    const invalid = await t.request<{ valid: boolean; issues: Array<{ path: string }> }>('post', '/api/workflows/validate', { as: 'manager', body: manualWorkflow(uniqueId('float'), [{ id: 'record', action: 'sales.record@1', input: { contactPhone: '+393339999999', amount: 1.5, currency: 'EUR' } }]) });
    assert.equal(invalid.body.valid, false, 'a float amount is caught when the workflow is validated');
    assert.ok(invalid.body.issues.some((issue) => issue.path.includes('amount')), JSON.stringify(invalid.body.issues));
  });
});
