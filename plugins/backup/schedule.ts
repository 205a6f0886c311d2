/**
 * The backup schedule and retention: stored in MongoDB, enacted as one recurring Agenda job
 * (`backup.run`) shared by every process.
 */
import type { Model } from 'mongoose';
import { inject, injectable, HttpError, Scheduler } from '../../core/index.js';
import { BackupScheduleModel, type BackupScheduleDocument } from './models/backup-schedule.js';
import type { ScheduleView } from './schemas.js';

export const BACKUP_JOB = 'backup.run';
const SCHEDULE_ID = 'schedule';

export interface ScheduleRequest {
  enabled: boolean;
  every?: string;
  timezone?: string;
  keepLast?: number;
}

@injectable()
export class BackupSchedule {
  constructor(
    @inject(BackupScheduleModel.token) private readonly schedules: Model<BackupScheduleDocument>,
    @inject(Scheduler) private readonly scheduler: Scheduler,
  ) {}

  async get(): Promise<ScheduleView> {
    const stored = await this.schedules.findById(SCHEDULE_ID).lean();
    const job = (await this.scheduler.list(BACKUP_JOB))[0];
    if (!stored) return { enabled: false, nextRunAt: null };
    return {
      enabled: stored.enabled,
      ...(stored.every ? { every: stored.every } : {}),
      ...(stored.timezone ? { timezone: stored.timezone } : {}),
      ...(stored.keepLast ? { keepLast: stored.keepLast } : {}),
      nextRunAt: stored.enabled && job?.nextRunAt ? job.nextRunAt.toISOString() : null,
      updatedAt: stored.updatedAt.toISOString(),
    };
  }

  /** How many archives to keep, or null to keep them all. */
  async keepLast(): Promise<number | null> {
    return (await this.schedules.findById(SCHEDULE_ID).lean())?.keepLast ?? null;
  }

  /** Replaces the schedule. Throws 422 BACKUP_SCHEDULE_INVALID for an interval or zone Agenda cannot read. */
  async set(request: ScheduleRequest, updatedBy: string | undefined): Promise<ScheduleView> {
    if (request.enabled && !request.every) throw new HttpError(422, 'BACKUP_SCHEDULE_INVALID', 'An enabled schedule needs `every` (a cron expression or an interval such as "1 day")');
    if (request.timezone && !isTimeZone(request.timezone)) throw new HttpError(422, 'BACKUP_SCHEDULE_INVALID', `Unknown time zone ${JSON.stringify(request.timezone)}`);
    await this.scheduler.cancel(BACKUP_JOB);
    if (request.enabled && request.every) {
      await this.scheduler.every(request.every, BACKUP_JOB, {}, { timezone: request.timezone, key: BACKUP_JOB });
      const [job] = await this.scheduler.list(BACKUP_JOB);
      if (!job?.nextRunAt) {
        await this.scheduler.cancel(BACKUP_JOB);
        throw new HttpError(422, 'BACKUP_SCHEDULE_INVALID', `Cannot compute when ${JSON.stringify(request.every)} next falls: give a cron expression ("0 3 * * *") or an interval ("12 hours")`);
      }
    }
    const previous = await this.schedules.findById(SCHEDULE_ID).lean();
    await this.schedules.replaceOne({ _id: SCHEDULE_ID }, {
      _id: SCHEDULE_ID,
      enabled: request.enabled,
      ...(request.every ?? previous?.every ? { every: request.every ?? previous?.every } : {}),
      ...(request.timezone ? { timezone: request.timezone } : {}),
      ...(request.keepLast ? { keepLast: request.keepLast } : {}),
      updatedAt: new Date(),
      ...(updatedBy ? { updatedBy } : {}),
    }, { upsert: true });
    return this.get();
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
