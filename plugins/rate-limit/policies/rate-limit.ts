import { inject, injectable, type Policy, type PolicyCheck, type Verdict } from '../../../core/index.js';
import { ContactDirectory, MessageKeys, Senders } from '../../whatsapp/public.js';
import { RateAnnouncer } from '../services/rate-announcer.js';
import { RateLimiter, type RateCode, type RateDecision } from '../services/rate-limiter.js';
import { SenderLimits } from '../services/sender-limits.js';

/** The step inputs the policy understands: a send (`to`, `from`) or a reply (`messageId`). */
interface GuardedInput { to?: unknown; from?: unknown; messageId?: unknown }

const BSUID = /^[A-Z]{2}\.[A-Za-z0-9]+$/;

/**
 * `rate.limit@1`: a send waits — it is deferred, never denied — while its sender is paused or
 * backing off after a provider rate-limit error, or while any limit is used up: throughput per
 * second, hourly and daily caps, the per-recipient pair limit and the portfolio's messaging limit
 * (unique recipients outside a service window per moving 24 hours). `until` is when the
 * last blocking window frees. An allowed send is counted at once, atomically, so two processes
 * never both take the last slot; dry runs and the compliance check count nothing.
 */
@injectable()
export class RateLimitPolicy implements Policy {
  constructor(
    @inject(RateLimiter) private readonly limiter: RateLimiter,
    @inject(SenderLimits) private readonly limits: SenderLimits,
    @inject(RateAnnouncer) private readonly announcer: RateAnnouncer,
    @inject(Senders) private readonly senders: Senders,
    @inject(ContactDirectory) private readonly contacts: ContactDirectory,
    @inject(MessageKeys) private readonly keys: MessageKeys,
  ) {}

  async check({ step, run }: PolicyCheck): Promise<Verdict> {
    const input = (step.input ?? {}) as GuardedInput;
    let recipient = typeof input.to === 'string' ? normalise(input.to) : null;
    let sender = typeof input.from === 'string' ? input.from : undefined;
    if (typeof input.messageId === 'string') {
      const inbound = await this.keys.byProviderId(input.messageId);
      recipient = inbound?.phone ?? inbound?.userId ?? null;
      sender = inbound?.phoneNumberId;
    }
    sender ??= this.senders.list()[0]?.phoneNumberId;
    if (!sender) return { decision: 'allow' }; // no sender: the send fails on its own, nothing to count
    const inWindow = recipient ? this.contacts.window(await this.contacts.find(recipient), sender).open : false;
    const decision = await this.limiter.decide({ sender, recipient, countsTowardMessagingLimit: !inWindow, consume: !run.simulate });
    if (!decision.allowed) {
      if (!run.simulate) this.announcer.deferred(decision.code);
      return { decision: 'defer', code: decision.code, until: decision.until, reason: explain(sender, decision) };
    }
    for (const warning of decision.warnings) this.announcer.warning(sender, this.limits.portfolioOf(sender), warning, decision.limits.warningThreshold);
    return { decision: 'allow' };
  }
}

function normalise(to: string): string {
  return BSUID.test(to) ? to : to.replace(/\D/g, '');
}

function explain(sender: string, decision: Extract<RateDecision, { allowed: false }>): string {
  const { usage, limits } = decision;
  const until = decision.until.toISOString();
  const reasons: Record<RateCode, string> = {
    RATE_SENDER_PAUSED: `Sender ${sender} is paused; checked again at ${until}`,
    RATE_SENDER_BACKOFF: `Sender ${sender} is backing off after a provider rate-limit error until ${until}`,
    RATE_PAIR_BACKOFF: `This recipient hit Meta's pair rate limit (131056) from sender ${sender}; waiting until ${until}`,
    RATE_THROUGHPUT: `Sender ${sender} sent ${usage.second} of ${limits.perSecond} messages this second; next slot at ${until}`,
    RATE_HOURLY_CAP: `Sender ${sender} reached its hourly cap (${usage.hour} of ${limits.hourly ?? '-'}); the window frees at ${until}`,
    RATE_DAILY_CAP: `Sender ${sender} reached its daily cap (${usage.day} of ${limits.daily ?? '-'}); the window frees at ${until}`,
    RATE_PAIR_LIMIT: `Too many messages to this recipient from sender ${sender} (pair limit); next one at ${until}`,
    RATE_MESSAGING_LIMIT: `The messaging limit (${limits.tier}: ${usage.uniqueRecipients} of ${limits.messagingLimit ?? 'unlimited'} unique recipients in 24 hours) is reached; a slot frees at ${until}`,
  };
  return reasons[decision.code];
}
