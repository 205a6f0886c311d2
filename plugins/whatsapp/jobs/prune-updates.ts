import type { Model } from 'mongoose';
import { inject, injectable, type JobContext, type JobHandler } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import { WebhookUpdateModel, type WebhookUpdate } from '../models/webhook-update.js';

export const PRUNE_UPDATES_JOB = 'whatsapp.prune-updates';

/**
 * `whatsapp.prune-updates`: removes webhook updates handled (processed or given up) longer ago
 * than the retention period, so the collection, and every write to it, does not grow forever.
 * Updates still waiting to be processed are never removed.
 */
@injectable()
export class PruneUpdatesJob implements JobHandler {
  constructor(
    @inject(WebhookUpdateModel.token) private readonly updates: Model<WebhookUpdate>,
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
  ) {}

  async run(_data: unknown, ctx: JobContext): Promise<void> {
    const before = new Date(Date.now() - this.config.webhook.retentionDays * 86_400_000);
    const { deletedCount } = await this.updates.deleteMany({ state: { $in: ['processed', 'failed'] }, receivedAt: { $lt: before } });
    if (deletedCount) ctx.logger.info('webhook updates past retention removed', { deleted: deletedCount, before: before.toISOString() });
  }
}
