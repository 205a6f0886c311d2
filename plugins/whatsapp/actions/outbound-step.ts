/**
 * What the send and reply actions share: store the message under the step's idempotency key,
 * send it only if this attempt claimed it, and turn provider errors into StepErrors.
 */
import { inject, injectable, StepError, type RunContext } from '../../../core/index.js';
import { STEP_ERROR_CODES } from '../graph/provider-errors.js';
import type { Message } from '../models/message.js';
import { Messenger, type OutboundRequest, type RecipientContact } from '../services/messenger.js';
import type { SendOutput } from '../schemas.js';

/** Statuses of a message that Meta was (or may have been) handed: its send happened. */
const HANDED_OVER = new Set<Message['status']>(['sending', 'unknown', 'accepted', 'sent', 'delivered', 'read', 'played']);

@injectable()
export class OutboundStep {
  constructor(@inject(Messenger) private readonly messenger: Messenger) {}

  /** `contact`: the recipient's contact when the caller knows it (see StoreOptions.contact). */
  async run(request: OutboundRequest, ctx: RunContext, contact?: RecipientContact | null): Promise<SendOutput> {
    if (ctx.simulate) return { messageId: 'simulated', status: 'simulated' };
    const stored = await this.messenger.storeAndSend(request, { idempotencyKey: ctx.idempotencyKey, origin: 'workflow', contact }, ctx.signal);
    let { message } = stored;
    if (!stored.created) {
      // A refused send may be tried again (Meta did not take it); `unknown` and later states never are.
      if (message.status === 'failed' && message.error?.retryable) message = await this.messenger.requeue(message._id) ?? message;
      if (message.status === 'queued') message = await this.messenger.dispatch(message._id, ctx.signal);
    }
    if (message.status === 'failed' && message.attempts > 0 && message.error) {
      const error = message.error;
      throw new StepError(STEP_ERROR_CODES[error.category], `${error.reason}${error.code ? ` (Graph API error ${error.code})` : ''}`, error.retryable, { messageId: String(message._id), error });
    }
    if (message.status === 'unknown' && message.attempts === 1 && ctx.attempt === 1) {
      // No answer in time: let the engine retry; the retry finds this message and sends nothing.
      throw new StepError('WHATSAPP_OUTCOME_UNKNOWN', `${message.error?.reason ?? 'No answer from the Graph API'}; the message is not sent again`, true, { messageId: String(message._id) });
    }
    return output(message);
  }

  /** The step's message if an earlier attempt handed it to Meta; null when it was never sent (see Action.recall). */
  async recall(ctx: RunContext): Promise<SendOutput | null> {
    if (ctx.simulate) return null;
    const earlier = await this.messenger.byIdempotencyKey(ctx.idempotencyKey);
    return earlier && HANDED_OVER.has(earlier.status) ? output(earlier) : null;
  }
}

export function output(message: Message): SendOutput {
  return { messageId: String(message._id), status: message.status, ...(message.providerMessageId ? { providerMessageId: message.providerMessageId } : {}) };
}
