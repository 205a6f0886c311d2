import { inject, injectable, type JobContext, type JobHandler } from '../../../core/index.js';
import { RetentionPruner } from '../retention.js';

/** `audit.prune`: removes digests (and their entries) past the retention period. */
@injectable()
export class PruneJob implements JobHandler {
  constructor(@inject(RetentionPruner) private readonly pruner: RetentionPruner) {}

  async run(_data: unknown, ctx: JobContext): Promise<void> {
    const result = await this.pruner.prune();
    if (result.digests) ctx.logger.info('audit retention pruned', { ...result });
  }
}
