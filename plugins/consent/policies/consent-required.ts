import { inject, injectable, type Policy, type PolicyCheck, type Verdict } from '../../../core/index.js';
import { ConsentConfigToken, type ConsentConfig } from '../config.js';
import { ConsentLedger } from '../services/consent-ledger.js';
import { messageCategory, recipientPhone } from './recipient.js';

export interface ConsentRequiredConfig { category?: string }

export const consentRequiredConfigSchema = {
  type: 'object', additionalProperties: false,
  properties: { category: { type: 'string', pattern: '^[a-z_]+$', description: 'marketing, utility, authentication, service…; guessed from the input when omitted' } },
} as const;

/**
 * `consent.required@1`: a message of a category needs the consent the `categories` setting asks
 * for — marketing needs `opted_in`, utility only that the contact did not opt out.
 */
@injectable()
export class ConsentRequiredPolicy implements Policy<ConsentRequiredConfig> {
  constructor(@inject(ConsentLedger) private readonly ledger: ConsentLedger, @inject(ConsentConfigToken) private readonly config: ConsentConfig) {}

  async check({ config, step }: PolicyCheck<ConsentRequiredConfig>): Promise<Verdict> {
    const category = messageCategory(config.category, step.input);
    const needed = this.config.categories[category] ?? 'opted_in';
    if (needed === 'any') return { decision: 'allow' };
    const phone = recipientPhone(step.input);
    if (!phone) return { decision: 'deny', code: 'CONSENT_RECIPIENT_UNKNOWN', reason: `A ${category} message needs a recipient phone number to check consent against` };
    const consent = await this.ledger.get(phone);
    if (consent.state === 'opted_out') {
      return { decision: 'deny', code: 'CONSENT_OPTED_OUT', reason: `The contact opted out (${consent.source ?? 'unknown source'}, ${consent.changedAt ?? 'unknown time'}); ${category} messages need ${needed}` };
    }
    if (needed === 'opted_in' && consent.state !== 'opted_in') {
      return { decision: 'deny', code: 'CONSENT_NOT_OPTED_IN', reason: `${category} messages need an opt-in; the contact's consent is ${consent.state}` };
    }
    return { decision: 'allow' };
  }
}
