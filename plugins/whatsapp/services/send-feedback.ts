/**
 * Tells other plugins what the Graph API answered when it refused a send, so that, for example,
 * a rate limiter can back a sender off after error 130429. Listeners run after the message is
 * recorded as failed; they must not throw (errors are logged) and must not block for long.
 */
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken } from '../../../core/index.js';
import type { ProviderError } from '../graph/provider-errors.js';

/** One refused send: who sent it, to whom, and Meta's classified error. */
export interface ProviderRefusal {
  phoneNumberId: string;
  /** The recipient's number (digits) or business-scoped user id. */
  recipient?: string;
  error: ProviderError;
  at: Date;
}

export type ProviderRefusalListener = (refusal: ProviderRefusal) => void | Promise<void>;

@injectable()
export class SendFeedback {
  private readonly listeners: ProviderRefusalListener[] = [];

  constructor(@inject(LoggerToken) private readonly logger: Logger) {}

  /** Registers a listener for every refused send of this process; call it at plugin start. */
  onProviderRefusal(listener: ProviderRefusalListener): void {
    this.listeners.push(listener);
  }

  /** Called by the messenger; never throws. */
  async refused(refusal: ProviderRefusal): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(refusal);
      } catch (error) {
        this.logger.error('send feedback listener failed', { error: (error as Error).message });
      }
    }
  }
}
