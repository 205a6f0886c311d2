import { inject, injectable, Scheduler, type PluginLifecycle } from 'flowgate/sdk';
import { PRUNE_JOB } from './jobs/prune.js';

/** Schedules the daily prune once across all processes (Agenda keeps one job per key). */
@injectable()
export class QuietHoursLifecycle implements PluginLifecycle {
  constructor(@inject(Scheduler) private readonly scheduler: Scheduler) {}

  async start(): Promise<void> {
    await this.scheduler.every('1 day', PRUNE_JOB, {}, { key: PRUNE_JOB });
  }
}
