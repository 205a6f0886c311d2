import { inject, injectable, type Policy, type PolicyCheck, type Verdict } from '../../../core/index.js';
import { Senders } from '../graph/senders.js';
import { MessageKeys } from '../services/message-keys.js';
import { ContactDirectory, windowSince } from '../services/contact-directory.js';

/** The step inputs the window policy understands: a send (`to`, `from`) or a reply (`messageId`). */
interface GuardedInput { to?: string; from?: string; template?: unknown; messageId?: string }

/**
 * `whatsapp.window@1`: free-form messages only inside the 24-hour customer-service window, opened
 * by the customer's last message to that sender; templates may be sent at any time. Meta refuses
 * the rest with 131047, so denying first saves a call and says why.
 */
@injectable()
export class WindowPolicy implements Policy {
  constructor(
    @inject(ContactDirectory) private readonly contacts: ContactDirectory,
    @inject(Senders) private readonly senders: Senders,
    @inject(MessageKeys) private readonly keys: MessageKeys,
  ) {}

  async check({ step }: PolicyCheck): Promise<Verdict> {
    const input = (step.input ?? {}) as GuardedInput;
    if (input.template) return { decision: 'allow' };
    let contactKey = input.to;
    let sender = input.from;
    if (input.messageId) {
      const inbound = await this.keys.inbound(input.messageId);
      // The message answered opened the window itself: while it is under 24 hours old the window
      // is open whatever the contact says (its last inbound time is at least this message's).
      if (inbound && windowSince(new Date(inbound.createdAt)).open) return { decision: 'allow' };
      contactKey = inbound?.phone ?? inbound?.userId;
      sender = inbound?.phoneNumberId;
    }
    if (!contactKey) return { decision: 'deny', code: 'WHATSAPP_WINDOW_UNKNOWN_RECIPIENT', reason: 'No recipient to check the 24-hour window for' };
    const phoneNumberId = sender ?? this.senders.list()[0]?.phoneNumberId ?? '';
    const window = this.contacts.window(await this.contacts.find(contactKey), phoneNumberId);
    if (window.open) return { decision: 'allow' };
    return {
      decision: 'deny', code: 'WHATSAPP_WINDOW_CLOSED',
      reason: window.lastInboundAt
        ? `The customer last wrote at ${window.lastInboundAt}; the 24-hour window closed at ${window.closesAt}. Send an approved template instead.`
        : 'The customer has never written to this number, so only an approved template may be sent.',
    };
  }
}
