/**
 * Canonical JSON and hashing for the audit chain. The same functions verify an export offline,
 * so they depend on nothing but node:crypto: object keys sorted, no whitespace, dates as ISO
 * strings, undefined members left out.
 */
import { createHash, createHmac } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  if (value && typeof value === 'object') {
    const members = Object.keys(value).sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
export const hmacSha256 = (key: Buffer, text: string): string => createHmac('sha256', key).update(text).digest('hex');

/** The digest before the first one points at this. */
export const GENESIS_HASH = '0'.repeat(64);
