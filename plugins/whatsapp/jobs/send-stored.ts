import { inject, injectable, type JobContext, type JobHandler } from '../../../core/index.js';
import { Outbox } from '../services/outbox.js';

/** `whatsapp.send-stored`: sends a scheduled, deferred or retried message when its time comes. */
@injectable()
export class SendStoredJob implements JobHandler<{ messageId: string }> {
  constructor(@inject(Outbox) private readonly outbox: Outbox) {}

  async run(data: { messageId: string }, ctx: JobContext): Promise<void> {
    // Deferred again: this job runs again then, so the message keeps one job.
    await this.outbox.sendStored(data.messageId, { runNextAt: (at) => ctx.runNextAt(at) });
  }
}
