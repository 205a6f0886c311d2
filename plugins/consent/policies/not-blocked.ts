import { inject, injectable, type Policy, type PolicyCheck, type Verdict } from '../../../core/index.js';
import { ConsentLedger } from '../services/consent-ledger.js';
import { recipientPhone } from './recipient.js';

/** `consent.not-blocked@1`: nothing goes to a blocked contact until its block ends. */
@injectable()
export class NotBlockedPolicy implements Policy {
  constructor(@inject(ConsentLedger) private readonly ledger: ConsentLedger) {}

  async check({ step }: PolicyCheck): Promise<Verdict> {
    const phone = recipientPhone(step.input);
    if (!phone) return { decision: 'allow' };
    const { block } = await this.ledger.get(phone);
    if (!block) return { decision: 'allow' };
    return { decision: 'deny', code: 'CONSENT_CONTACT_BLOCKED', reason: `The contact is blocked until ${block.until} (${block.kind}: ${block.reason})` };
  }
}
