import { inject, injectable, Scheduler, type Dispose, type Trigger, type TriggerContext } from '../../../core/index.js';

export const cronConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['every'],
  properties: {
    every: { type: 'string', minLength: 1, maxLength: 100, description: 'Cron expression ("0 9 * * 1-5") or interval ("15 minutes")' },
    timezone: { type: 'string', default: 'UTC', description: 'IANA time zone for cron expressions' },
  },
} as const;

/**
 * `schedule.cron@1`: one Agenda job per workflow (unique on the workflow id, so every process
 * activating it agrees on one job). Removed when the workflow is disabled or changes version.
 */
@injectable()
export class CronTrigger implements Trigger<{ every: string; timezone?: string }> {
  constructor(@inject(Scheduler) private readonly scheduler: Scheduler) {}

  async activate(config: Readonly<{ every: string; timezone?: string }>, ctx: TriggerContext): Promise<Dispose> {
    const key = `workflow:${ctx.workflowId}`;
    await this.scheduler.every(config.every, 'schedule.fire', { workflowId: ctx.workflowId }, { key, timezone: config.timezone ?? 'UTC' });
    return async () => { await this.scheduler.cancel('schedule.fire', key); };
  }
}
