import { inject, injectable, type JobContext, type JobHandler } from 'flowgate/sdk';
import { QuietHoursConfigToken, type QuietHoursConfig } from '../config.js';
import { DeferralLog } from '../deferral-log.js';

export const PRUNE_JOB = 'quiet-hours.prune';

/** `quiet-hours.prune`: deferral records hold phone numbers, so they are kept only `retentionDays`. */
@injectable()
export class PruneDeferralsJob implements JobHandler {
  constructor(@inject(DeferralLog) private readonly log: DeferralLog, @inject(QuietHoursConfigToken) private readonly config: QuietHoursConfig) {}

  async run(_data: unknown, ctx: JobContext): Promise<void> {
    const removed = await this.log.prune(this.config.retentionDays);
    ctx.logger.info('quiet-hours deferrals pruned', { removed });
  }
}
