import { inject, injectable, type JobHandler } from '../../../core/index.js';
import { Outbox } from '../services/outbox.js';

/** `whatsapp.send-stored`: sends a scheduled, deferred or retried message when its time comes. */
@injectable()
export class SendStoredJob implements JobHandler<{ messageId: string }> {
  constructor(@inject(Outbox) private readonly outbox: Outbox) {}

  async run(data: { messageId: string }): Promise<void> {
    await this.outbox.sendStored(data.messageId);
  }
}
