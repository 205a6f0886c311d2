/**
 * Tells other plugins what the Graph API answered when it refused a send, so that, for example,
 * a rate limiter backs a sender off after error 130429. Listeners are bound at registration, like
 * the template-status listeners, and run after the message is recorded as failed.
 */
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, multiInject, optional } from '../../../core/index.js';
import type { ProviderError } from '../graph/provider-errors.js';

/** One refused send: who sent it, to whom, and Meta's classified error. */
export interface ProviderRefusal {
  phoneNumberId: string;
  /** The recipient's number (digits) or business-scoped user id. */
  recipient?: string;
  error: ProviderError;
  at: Date;
}

/**
 * Hears every send the Graph API refused, in the process that sent it. Contribute one from a
 * plugin's register(): `r.bind(ProviderRefusalListenerToken).toService(MyListener)`.
 */
export interface ProviderRefusalListener {
  /** Awaited by the sender before it returns; an error is logged and does not change the message. */
  onProviderRefusal(refusal: ProviderRefusal): Promise<void>;
}
export const ProviderRefusalListenerToken = Symbol.for('whatsapp.ProviderRefusalListener');

@injectable()
export class SendFeedback {
  constructor(
    @inject(LoggerToken) private readonly logger: Logger,
    @multiInject(ProviderRefusalListenerToken) @optional() private readonly listeners: ProviderRefusalListener[] = [],
  ) {}

  /** Called by the messenger after recording the failure; never throws. */
  async refused(refusal: ProviderRefusal): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener.onProviderRefusal(refusal);
      } catch (error) {
        this.logger.error('provider refusal listener failed', { error: (error as Error).message });
      }
    }
  }
}
