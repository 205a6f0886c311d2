import { inject, injectable, StepError, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import { MessageKeys } from '../services/message-keys.js';
import type { ReplyInput, SendOutput } from '../schemas.js';
import { OutboundStep } from './outbound-step.js';

/** `whatsapp.reply@1`: answers an inbound message, from the number it reached, quoting it. */
@injectable()
export class ReplyAction implements Action<ReplyInput, SendOutput> {
  constructor(@inject(OutboundStep) private readonly step: OutboundStep, @inject(MessageKeys) private readonly keys: MessageKeys) {}

  async execute(input: ReplyInput, ctx: RunContext): Promise<ActionResult<SendOutput>> {
    const found = await this.keys.byProviderId(input.messageId);
    const inbound = found?.direction === 'inbound' ? found : null;
    const to = inbound?.phone ?? inbound?.userId;
    if (!inbound || !to) throw new StepError('WHATSAPP_REPLY_TARGET_UNKNOWN', `No inbound message ${input.messageId} to reply to`, false);
    const { messageId, ...content } = input;
    return { output: await this.step.run({ ...content, to, from: inbound.phoneNumberId, replyTo: messageId }, ctx) };
  }
}
