/**
 * Recurring sales reports: what each computes is stored here; when it runs is one Agenda job
 * per schedule (`sales.report`, keyed by the schedule id), which every process shares and
 * which runs once per occurrence.
 */
import { randomBytes } from 'node:crypto';
import type { Model } from 'mongoose';
import { inject, injectable, HttpError, notFound, Scheduler } from '../../../core/index.js';
import { ReportScheduleModel, type ReportSchedule } from '../models/report-schedule.js';
import { requireTimeZone } from '../periods.js';
import type { ReportSpec, ScheduleRequest, ScheduleView } from '../schemas.js';

export const REPORT_JOB = 'sales.report';

export function toScheduleView(schedule: ReportSchedule, nextRunAt: Date | null): ScheduleView {
  return {
    id: schedule._id,
    name: schedule.name,
    cron: schedule.cron,
    spec: schedule.spec,
    ...(schedule.deliverTo ? { deliverTo: { url: schedule.deliverTo.url, headerNames: Object.keys(schedule.deliverTo.headers ?? {}) } } : {}),
    createdBy: schedule.createdBy,
    createdAt: schedule.createdAt.toISOString(),
    nextRunAt: nextRunAt ? nextRunAt.toISOString() : null,
  };
}

@injectable()
export class ReportSchedules {
  constructor(
    @inject(ReportScheduleModel.token) private readonly schedules: Model<ReportSchedule>,
    @inject(Scheduler) private readonly scheduler: Scheduler,
  ) {}

  /** Stores the schedule and its Agenda job. Throws 422 SALES_SCHEDULE_INVALID for a cron Agenda cannot place. */
  async create(request: ScheduleRequest, createdBy: string): Promise<ScheduleView> {
    const spec: ReportSpec = {
      window: request.window,
      granularity: request.granularity ?? 'day',
      timezone: requireTimeZone(request.timezone ?? 'UTC'),
      ...(request.breakdownBy ? { breakdownBy: request.breakdownBy } : {}),
      ...(request.filters ? { filters: request.filters } : {}),
    };
    const schedule: ReportSchedule = {
      _id: `rs_${randomBytes(8).toString('hex')}`,
      name: request.name,
      cron: request.cron,
      spec,
      ...(request.deliverTo ? { deliverTo: request.deliverTo } : {}),
      createdBy,
      createdAt: new Date(),
    };
    let nextRunAt: Date | null = null;
    try {
      await this.scheduler.every(request.cron, REPORT_JOB, { scheduleId: schedule._id }, { timezone: spec.timezone, key: schedule._id });
      nextRunAt = await this.nextRunAt(schedule._id);
    } catch {
      nextRunAt = null;
    }
    if (!nextRunAt) {
      await this.scheduler.cancel(REPORT_JOB, schedule._id);
      throw new HttpError(422, 'SALES_SCHEDULE_INVALID', `Cannot compute when ${JSON.stringify(request.cron)} next falls: give a cron expression such as "0 8 * * 1"`);
    }
    await this.schedules.create(schedule);
    return toScheduleView(schedule, nextRunAt);
  }

  async get(id: string): Promise<ReportSchedule> {
    const schedule = await this.schedules.findById(id).lean<ReportSchedule>();
    if (!schedule) throw notFound('Report schedule', id);
    return schedule;
  }

  async list(): Promise<ScheduleView[]> {
    const jobs = await this.scheduler.list(REPORT_JOB);
    const next = new Map(jobs.map((job) => [(job.data as { scheduleId?: string }).scheduleId, job.nextRunAt]));
    const schedules = await this.schedules.find().sort({ createdAt: 1 }).lean<ReportSchedule[]>();
    return schedules.map((s) => toScheduleView(s, next.get(s._id) ?? null));
  }

  /** Stops the schedule; reports it made stay. */
  async remove(id: string): Promise<void> {
    await this.get(id);
    await this.scheduler.cancel(REPORT_JOB, id);
    await this.schedules.deleteOne({ _id: id });
  }

  async nextRunAt(id: string): Promise<Date | null> {
    const job = (await this.scheduler.list(REPORT_JOB)).find((j) => (j.data as { scheduleId?: string }).scheduleId === id);
    return job?.nextRunAt ?? null;
  }
}
