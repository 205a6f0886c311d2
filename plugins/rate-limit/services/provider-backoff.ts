import type { Logger } from 'winston';
import { inject, injectable, LoggerToken } from '../../../core/index.js';
import type { ProviderRefusal, ProviderRefusalListener } from '../../whatsapp/public.js';
import { RateAnnouncer } from './rate-announcer.js';
import { RateLimiter } from './rate-limiter.js';

/** Meta's pair rate limit: only that recipient waits, not the whole sender. */
const PAIR_LIMIT_CODE = 131056;

/**
 * Hears the WhatsApp plugin's refused sends: a rate-limit error (130429, 80007, 131048, 4,
 * HTTP 429; 131056 for a pair) puts the sender, or the pair, into backoff, which
 * `rate.limit@1` then enforces for every process.
 */
@injectable()
export class ProviderBackoff implements ProviderRefusalListener {
  constructor(
    @inject(RateLimiter) private readonly limiter: RateLimiter,
    @inject(RateAnnouncer) private readonly announcer: RateAnnouncer,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  async onProviderRefusal({ phoneNumberId, recipient, error, at }: ProviderRefusal): Promise<void> {
    if (error.category !== 'rate-limit') return;
    const pair = error.code === PAIR_LIMIT_CODE && recipient ? recipient : undefined;
    const { until, attempt } = await this.limiter.backOff(phoneNumberId, pair, at.getTime());
    this.logger.warn('provider rate limit: backing off', { phoneNumberId, scope: pair ? 'pair' : 'sender', code: error.code, attempt, until: until.toISOString() });
    this.announcer.backoff(phoneNumberId, pair, until, error.code);
  }
}
