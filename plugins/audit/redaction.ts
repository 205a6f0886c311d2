/**
 * What may go into an audit entry: secrets removed (the core's `redact`), customers replaced by
 * a keyed hash (a pseudonym), and values made storable (no `.`/`$` keys, no nested arrays,
 * bounded size) so the stored document hashes the same when read back.
 */
import { createHmac } from 'node:crypto';
import { inject, injectable, redact } from '../../core/index.js';
import { AuditKeysToken, type AuditKeys } from './config.js';

/** Field names that hold a customer's phone number or id. */
const CUSTOMER_FIELD = /^(phone|phones|phoneNumber|msisdn|waId|wa_id|to|from|recipient|recipients|contact|contactId|customer|customerId)$/i;
/** A phone number as a whole value, E.164 with or without the plus. */
const PHONE = /^\+?[1-9]\d{7,14}$/;
/** A phone number inside free text ("customer 4915112345678 said STOP"). */
const PHONE_IN_TEXT = /\+?\b[1-9]\d{7,14}\b/g;
const MAX_DEPTH = 6;
const MAX_STRING = 1000;
const MAX_ITEMS = 100;

export type SubjectKind = 'phone' | 'customer';

@injectable()
export class Pseudonyms {
  constructor(@inject(AuditKeysToken) private readonly keys: AuditKeys) {}

  /**
   * The pseudonym of a customer: HMAC-SHA256 with the pseudonym key, so the same customer gets
   * the same pseudonym in every entry, and nobody without the key can reverse or recompute it.
   */
  of(kind: SubjectKind, value: string): string {
    const normalized = kind === 'phone' ? value.replace(/\D/g, '') : value.trim();
    return `ps_${createHmac('sha256', this.keys.pseudonym).update(`${kind}:${normalized}`).digest('hex').slice(0, 32)}`;
  }

  /** Pseudonymizes a customer-bearing value: phone numbers as phones, other ids as customer ids. */
  private subject(value: string): string {
    return PHONE.test(value.trim()) ? this.of('phone', value) : this.of('customer', value);
  }

  /** A copy of `value` fit to store in an entry (see the module comment). */
  scrub(value: unknown): unknown {
    return this.walk(redact(JSON.parse(JSON.stringify(value ?? null)) as unknown), 0, false);
  }

  private walk(value: unknown, depth: number, customerField: boolean): unknown {
    if (typeof value === 'string') {
      if (customerField || PHONE.test(value.trim())) return this.subject(value);
      const text = value.replace(PHONE_IN_TEXT, (phone) => this.of('phone', phone));
      return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
    }
    if (typeof value === 'number' && customerField) return this.subject(String(value));
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return '[depth]';
    if (Array.isArray(value)) {
      return value.slice(0, MAX_ITEMS).map((item) => (Array.isArray(item) ? JSON.stringify(this.walk(item, depth + 1, customerField)) : this.walk(item, depth + 1, customerField)));
    }
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value).slice(0, MAX_ITEMS)) {
      out[key.replace(/\./g, '\uff0e').replace(/^\$/, '\uff04')] = this.walk(inner, depth + 1, customerField || CUSTOMER_FIELD.test(key));
    }
    return out;
  }
}
