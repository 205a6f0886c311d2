import { inject, injectable, type JobContext, type JobHandler } from '../../../core/index.js';
import { SessionStore } from '../sessions.js';

/** `identity.sessions-prune`: deletes sessions that ended more than a day ago (no TTL indexes on FerretDB). */
@injectable()
export class SessionsPruneJob implements JobHandler {
  constructor(@inject(SessionStore) private readonly sessions: SessionStore) {}

  async run(_data: unknown, ctx: JobContext): Promise<void> {
    const removed = await this.sessions.prune();
    if (removed) ctx.logger.info('ended sessions removed', { removed });
  }
}
