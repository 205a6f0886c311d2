import { inject, injectable, Scheduler, type PluginLifecycle } from '../../core/index.js';
import { HelloConfigToken, type HelloConfig } from './config.js';

/** Schedules the tally job once across all processes (Agenda keeps one job per unique key). */
@injectable()
export class HelloLifecycle implements PluginLifecycle {
  constructor(@inject(Scheduler) private readonly scheduler: Scheduler, @inject(HelloConfigToken) private readonly config: HelloConfig) {}

  async start(): Promise<void> {
    await this.scheduler.every(this.config.tallyEvery, 'hello.tally', {}, { key: 'hello.tally' });
  }
}
