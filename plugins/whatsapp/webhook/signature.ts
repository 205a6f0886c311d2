import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER_VALUE = /^sha256=([0-9a-f]{64})$/i;

/**
 * True when `header` is `sha256=<hex>` and the hex is the HMAC-SHA256 of the raw body bytes keyed
 * with the app secret. Checked over the bytes as received, never re-serialized JSON: Meta signs
 * its own escaped-unicode serialization (reference §1.2). Constant-time compare.
 */
export function verifySignature(rawBody: Buffer, header: string | string[] | undefined, appSecret: string): boolean {
  if (typeof header !== 'string') return false;
  const match = HEADER_VALUE.exec(header.trim());
  if (!match) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  const given = Buffer.from((match[1] as string).toLowerCase(), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header value Meta would send for `body`. */
export function signBody(body: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
