import { injectable, type Trigger } from '../../../core/index.js';
import { INBOUND_TYPES, type MessageEvent } from '../events.js';

export const messageTriggerConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    types: { type: 'array', items: { type: 'string', enum: INBOUND_TYPES }, minItems: 1, description: 'Only these inbound types' },
    text: {
      type: 'object', additionalProperties: false, description: 'Match on the text (body, button text or reply title), trimmed',
      properties: {
        equals: { type: 'string' },
        keywords: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'The whole text equals one of these (STOP, UNSUBSCRIBE…)' },
        contains: { type: 'string', minLength: 1 },
        pattern: { type: 'string', minLength: 1, format: 'regex' },
        caseSensitive: { type: 'boolean', default: false },
      },
    },
    from: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'Customer phone numbers (any format) or business-scoped user ids' },
    phoneNumberIds: { type: 'array', items: { type: 'string', pattern: '^\\d+$' }, minItems: 1, description: 'Business numbers (phone number ids) that received it' },
  },
} as const;

export interface MessageTriggerConfig {
  types?: string[];
  text?: { equals?: string; keywords?: string[]; contains?: string; pattern?: string; caseSensitive?: boolean };
  from?: string[];
  phoneNumberIds?: string[];
}

/** `whatsapp.message@1`: an inbound message, filtered by type, text, customer and business number. */
@injectable()
export class MessageTrigger implements Trigger<MessageTriggerConfig> {
  matches(config: Readonly<MessageTriggerConfig>, payload: unknown): boolean {
    const event = payload as MessageEvent;
    if (config.types && !config.types.includes(event.type)) return false;
    if (config.phoneNumberIds && !config.phoneNumberIds.includes(event.phoneNumberId)) return false;
    if (config.from) {
      const digits = (value: string) => value.replace(/\D/g, '');
      const matchesSender = config.from.some((f) => (event.from !== null && digits(f) !== '' && digits(f) === event.from) || f === event.fromUserId);
      if (!matchesSender) return false;
    }
    return config.text ? textMatches(config.text, event.text) : true;
  }
}

function textMatches(rule: NonNullable<MessageTriggerConfig['text']>, raw: string | null): boolean {
  if (raw === null) return false;
  const fold = (value: string) => (rule.caseSensitive ? value : value.toLocaleLowerCase());
  const text = fold(raw.trim());
  if (rule.equals !== undefined && text !== fold(rule.equals.trim())) return false;
  if (rule.keywords && !rule.keywords.some((k) => fold(k.trim()) === text)) return false;
  if (rule.contains !== undefined && !text.includes(fold(rule.contains))) return false;
  if (rule.pattern !== undefined && !new RegExp(rule.pattern, rule.caseSensitive ? 'u' : 'iu').test(raw.trim())) return false;
  return true;
}
