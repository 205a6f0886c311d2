import { inject, injectable, type Trigger } from '../../../core/index.js';
import { ConsentConfigToken, type ConsentConfig } from '../config.js';
import { classifyKeyword, type KeywordKind } from '../keywords.js';

/** The inbound-message trigger whose events this one selects from. */
export const INBOUND_MESSAGE_TRIGGER = 'whatsapp.message@1';

export const keywordTriggerConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['intent'],
  properties: {
    intent: { type: 'string', enum: ['opt-out', 'opt-in', 'help'], description: 'Which kind of keyword the message must be, by the configured keyword lists' },
  },
} as const;

export interface KeywordTriggerConfig {
  intent: KeywordKind;
}

/**
 * `consent.keyword@1`: an inbound WhatsApp message that is an opt-out, opt-in or help keyword
 * (classified as `consent.classify@1` does). It selects from `whatsapp.message@1` events, so a
 * message starts only the keyword workflow it concerns.
 */
@injectable()
export class KeywordTrigger implements Trigger<KeywordTriggerConfig> {
  constructor(@inject(ConsentConfigToken) private readonly config: ConsentConfig) {}

  matches(config: Readonly<KeywordTriggerConfig>, payload: unknown): boolean {
    const text = (payload as { text?: unknown }).text;
    return classifyKeyword(typeof text === 'string' ? text : null, this.config.keywords, this.config.match).classification === config.intent;
  }
}
