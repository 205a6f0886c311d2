import type { Model } from 'mongoose';
import { inject, injectable, type JobContext, type JobHandler } from '../../../core/index.js';
import { AnalyticsConfigToken, type AnalyticsConfig } from '../config.js';
import { AnalyticsEventModel, type AnalyticsEvent } from '../models/analytics-event.js';
import { DAY_MS } from '../services/time-zones.js';

export const PRUNE_JOB = 'analytics.prune-events';

/** `analytics.prune-events`: deletes raw events past the retention; their counts stay in the rollups. */
@injectable()
export class PruneEventsJob implements JobHandler {
  constructor(
    @inject(AnalyticsEventModel.token) private readonly events: Model<AnalyticsEvent>,
    @inject(AnalyticsConfigToken) private readonly config: AnalyticsConfig,
  ) {}

  async run(_data: unknown, ctx: JobContext): Promise<void> {
    const cutoff = new Date(Date.now() - this.config.retentionDays * DAY_MS);
    const { deletedCount } = await this.events.deleteMany({ occurredAt: { $lt: cutoff } });
    ctx.logger.info('analytics raw events pruned', { deleted: deletedCount, before: cutoff.toISOString() });
  }
}
