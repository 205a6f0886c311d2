import { inject, injectable, StepError, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import type { ProviderError } from '../graph/provider-errors.js';
import { Messenger } from '../services/messenger.js';

/** `whatsapp.mark-read@1`: blue ticks on an inbound message; a repeat changes nothing. */
@injectable()
export class MarkReadAction implements Action<{ messageId: string }, { marked: boolean }> {
  constructor(@inject(Messenger) private readonly messenger: Messenger) {}

  async execute(input: { messageId: string }, ctx: RunContext): Promise<ActionResult<{ marked: boolean }>> {
    if (ctx.simulate) return { output: { marked: false } };
    try {
      const { marked } = await this.messenger.markRead(input.messageId, ctx.signal);
      return { output: { marked } };
    } catch (error) {
      const provider = (error as { providerError?: ProviderError }).providerError;
      if (provider) throw new StepError('WHATSAPP_MARK_READ_FAILED', provider.reason, provider.retryable, { error: provider });
      throw new StepError('WHATSAPP_REPLY_TARGET_UNKNOWN', (error as Error).message, false);
    }
  }
}
