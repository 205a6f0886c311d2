import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MongoConnection } from '../../../core/index.js';
import { ReportSchedules } from '../../../plugins/sales/services/report-schedules.js';
import { SalesReportService, type ReportRequest } from '../../../plugins/sales/services/report-service.js';
import { eventually } from '../../helpers/test-host.js';
import { ENGINE_PLUGINS } from '../../core/engine/helpers.js';
import { startSalesServer, type SalesTestServer } from './harness.js';

interface ReportView { id: string; delivery?: { status: string; attempts: number } }

describe('plugin sales: a scheduled report stored by a run that died before delivering it', () => {
  let t: SalesTestServer;
  let receiver: Server;
  let receiverUrl = '';
  /** Report ids in the order their POSTs arrived. */
  const posted: string[] = [];

  before(async () => {
    t = await startSalesServer('sales_delivery_resume', { plugins: [...ENGINE_PLUGINS, 'sales'] });
    receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      req.on('end', () => {
        posted.push((JSON.parse(text) as ReportView).id);
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  /** A schedule delivering to the receiver, and its report for the current window stored as a run killed after storing it leaves it. */
  const scheduleWithUndeliveredReport = async (name: string): Promise<{ scheduleId: string; request: ReportRequest; reportId: string }> => {
    const created = await t.request<{ id: string }>('post', '/api/reports/sales/schedule', {
      as: 'manager', body: { name, cron: '0 6 * * *', window: 'day', deliverTo: { url: `${receiverUrl}/reports` } },
    });
    assert.equal(created.status, 201, created.text);
    const schedule = await t.server.get(ReportSchedules).get(created.body.id);
    const request: ReportRequest = { idFor: (window) => `${schedule._id}:${window}`, source: { kind: 'schedule', id: schedule._id }, name: schedule.name, spec: schedule.spec };
    const { report } = await t.server.get(SalesReportService).generate(request);
    assert.equal(report.delivery, undefined);
    return { scheduleId: schedule._id, request: { ...request, deliverTo: { url: `${receiverUrl}/reports` } }, reportId: report.id };
  };

  const stored = async (id: string) => (await t.request<ReportView>('get', `/api/reports/sales/reports/${encodeURIComponent(id)}`, { as: 'analyst' })).body;

  it('the next run of the same occurrence delivers it, once', async () => {
    const { scheduleId, reportId } = await scheduleWithUndeliveredReport('resumed after a crash');
    const jobs = t.server.get(MongoConnection).connection.db?.collection('agendaJobs');
    if (!jobs) throw new Error('no database');
    const firedAt = new Date();
    // Agenda retakes a job whose process died; here the job is simply made due again.
    assert.equal((await jobs.updateOne({ name: 'sales.report', 'data.scheduleId': scheduleId }, { $set: { nextRunAt: new Date(Date.now() - 1000) } })).matchedCount, 1);
    await eventually(async () => {
      const job = await jobs.findOne({ name: 'sales.report', 'data.scheduleId': scheduleId });
      return job?.lastFinishedAt && new Date(job.lastFinishedAt as Date) >= firedAt;
    }, 20_000);
    assert.deepEqual(posted.filter((id) => id === reportId), [reportId], 'delivered by the run that found it stored');
    assert.equal((await stored(reportId)).delivery?.status, 'delivered');
  });

  it('runs racing for the same undelivered report deliver it once, and later runs not again', async () => {
    const { request, reportId } = await scheduleWithUndeliveredReport('raced runs');
    const reports = t.server.get(SalesReportService);
    const runs = await Promise.all([reports.generate(request), reports.generate(request), reports.generate(request)]);
    assert.ok(runs.every((run) => !run.created));
    await reports.generate(request);
    assert.deepEqual(posted.filter((id) => id === reportId), [reportId]);
    assert.equal((await stored(reportId)).delivery?.status, 'delivered');
  });
});
