import { inject, injectable, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import type { SendInput, SendOutput } from '../schemas.js';
import { OutboundStep } from './outbound-step.js';

/** `whatsapp.send@1`: a text, interactive or template message; idempotent by the step's key. */
@injectable()
export class SendAction implements Action<SendInput, SendOutput> {
  constructor(@inject(OutboundStep) private readonly step: OutboundStep) {}

  async execute(input: SendInput, ctx: RunContext): Promise<ActionResult<SendOutput>> {
    return { output: await this.step.run(input, ctx) };
  }

  async recall(_input: SendInput, ctx: RunContext): Promise<ActionResult<SendOutput> | null> {
    const output = await this.step.recall(ctx);
    return output && { output };
  }
}
