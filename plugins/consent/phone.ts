import { createHmac } from 'node:crypto';
import { HttpError } from '../../core/index.js';

/** Phone in a route or step input: country code and digits, `+`, spaces, dashes and brackets allowed. */
export const phoneSchema = { type: 'string', pattern: '^\\+?[0-9][0-9 ()-]{5,30}$', description: 'Phone number with country code' } as const;

/** The key consent is stored under: digits only, as WhatsApp's wa_id. */
export function phoneKey(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6 || digits.length > 20) throw new HttpError(400, 'CONSENT_PHONE_INVALID', 'A phone number has 6 to 20 digits with its country code');
  return digits;
}

/** Keyed hash kept instead of a phone number once it is erased: links repeated requests, reveals nothing without the key. */
export function pseudonym(phone: string, key: string): string {
  return `hmac-sha256:${createHmac('sha256', key).update(phone).digest('hex')}`;
}
