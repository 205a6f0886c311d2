/** Workflows on a timetable: a cron expression or an interval, fired once per occurrence across all processes. */
import type { Plugin } from '../../core/index.js';
import { ScheduleFireJob } from './jobs/fire.js';
import { CronTrigger, cronConfigSchema } from './triggers/cron.js';

const schedule: Plugin = {
  manifest: { id: 'schedule', version: '1.0.0', core: '^0.1.0', description: 'Cron and interval triggers backed by Agenda' },
  register(r) {
    r.trigger({
      type: 'cron', version: 1, impl: CronTrigger, summary: 'Fires on a cron expression (or an interval such as "15 minutes") in a time zone',
      config: cronConfigSchema,
      event: { type: 'object', required: ['firedAt'], properties: { firedAt: { type: 'string', description: 'When the fire ran' }, scheduledFor: { type: 'string', description: 'The occurrence on the schedule it is for' } } },
    });
    // A run only submits an event: a short lock lifetime lets another process take over soon
    // when the one holding the job dies.
    r.job({ name: 'schedule.fire', handler: ScheduleFireJob, concurrency: 5, lockLifetimeMs: 30_000 });
  },
};
export default schedule;
