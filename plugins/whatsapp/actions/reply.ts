import { inject, injectable, StepError, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import { MessageKeys } from '../services/message-keys.js';
import type { ReplyInput, SendOutput } from '../schemas.js';
import { OutboundStep } from './outbound-step.js';

/** `whatsapp.reply@1`: answers an inbound message, from the number it reached, quoting it. */
@injectable()
export class ReplyAction implements Action<ReplyInput, SendOutput> {
  constructor(@inject(OutboundStep) private readonly step: OutboundStep, @inject(MessageKeys) private readonly keys: MessageKeys) {}

  async execute(input: ReplyInput, ctx: RunContext): Promise<ActionResult<SendOutput>> {
    const inbound = await this.keys.inbound(input.messageId);
    const to = inbound?.phone ?? inbound?.userId;
    if (!inbound || !to) throw new StepError('WHATSAPP_REPLY_TARGET_UNKNOWN', `No inbound message ${input.messageId} to reply to`, false);
    const { messageId, ...content } = input;
    // The contact is the one who wrote: the send need not look it up again.
    const contact = inbound.contactId ? { _id: inbound.contactId, waId: inbound.phone, userId: inbound.userId } : null;
    return { output: await this.step.run({ ...content, to, from: inbound.phoneNumberId, replyTo: messageId }, ctx, contact) };
  }

  async recall(_input: ReplyInput, ctx: RunContext): Promise<ActionResult<SendOutput> | null> {
    const output = await this.step.recall(ctx);
    return output && { output };
  }
}
