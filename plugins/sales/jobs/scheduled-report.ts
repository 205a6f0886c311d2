import { inject, injectable, type JobContext, type JobHandler } from '../../../core/index.js';
import { ReportSchedules } from '../services/report-schedules.js';
import { SalesReportService } from '../services/report-service.js';

/** `sales.report`: one occurrence of a recurring report. A schedule deleted meanwhile does nothing. */
@injectable()
export class ScheduledReportJob implements JobHandler<{ scheduleId?: string }> {
  constructor(@inject(ReportSchedules) private readonly schedules: ReportSchedules, @inject(SalesReportService) private readonly reports: SalesReportService) {}

  async run(data: { scheduleId?: string }, ctx: JobContext): Promise<void> {
    const schedule = data.scheduleId ? await this.schedules.get(data.scheduleId).catch(() => null) : null;
    if (!schedule) {
      ctx.logger.warn('sales report job without a schedule: nothing to do', { scheduleId: data.scheduleId });
      return;
    }
    const { report, created } = await this.reports.generate({
      idFor: (window) => `${schedule._id}:${window}`, source: { kind: 'schedule', id: schedule._id }, name: schedule.name, spec: schedule.spec,
      ...(schedule.deliverTo ? { deliverTo: schedule.deliverTo } : {}),
    });
    ctx.logger.info('sales report generated', { scheduleId: schedule._id, reportId: report.id, created });
  }
}
