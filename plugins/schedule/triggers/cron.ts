import { inject, injectable, Scheduler, type Dispose, type Trigger, type TriggerContext } from '../../../core/index.js';
import type { FireData } from '../jobs/fire.js';
import { timetableOf } from '../timetable.js';

export const cronConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['every'],
  properties: {
    every: { type: 'string', minLength: 1, maxLength: 100, description: 'Cron expression ("0 9 * * 1-5") or interval ("15 minutes", aligned to the Unix epoch)' },
    timezone: { type: 'string', default: 'UTC', description: 'IANA time zone for cron expressions' },
  },
} as const;

/**
 * `schedule.cron@1`: one Agenda job per workflow (unique on the workflow id, so every process
 * activating it agrees on one job), carrying the schedule; the job fires on the schedule's own
 * timetable (jobs/fire.ts). A process that starts leaves an unchanged schedule's job as it is,
 * so its next run, overdue after a downtime, still comes. Removed when the workflow is disabled
 * or changes version.
 */
@injectable()
export class CronTrigger implements Trigger<{ every: string; timezone?: string }> {
  constructor(@inject(Scheduler) private readonly scheduler: Scheduler) {}

  async activate(config: Readonly<{ every: string; timezone?: string }>, ctx: TriggerContext): Promise<Dispose> {
    const timezone = config.timezone ?? 'UTC';
    const timetable = timetableOf(config.every, timezone);
    const key = `workflow:${ctx.workflowId}`;
    const data: FireData = { workflowId: ctx.workflowId, every: config.every, timezone };
    await this.scheduler.every(config.every, 'schedule.fire', data, { key, timezone, firstRunAt: timetable.nextAfter(new Date()), keepIfUnchanged: true });
    return async () => { await this.scheduler.cancel('schedule.fire', key); };
  }
}
