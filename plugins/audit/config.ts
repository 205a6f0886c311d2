import type { FromSchema } from 'json-schema-to-ts';

export const auditConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sealEvery', 'sealDelayMs', 'maxEntriesPerDigest', 'retentionDays', 'pruneEvery'],
  properties: {
    pseudonymKey: { type: 'string', minLength: 32, description: 'HMAC key for customer pseudonyms (FLOWGATE_AUDIT_PSEUDONYM_KEY)' },
    signingKey: { type: 'string', minLength: 32, description: 'HMAC key that signs each digest (FLOWGATE_AUDIT_SIGNING_KEY)' },
    sealEvery: { type: 'string', default: '1 minute', description: 'How often the seal job turns new entries into a digest' },
    sealDelayMs: {
      type: 'integer', minimum: 100, default: 5000,
      description: 'Entries younger than this are left for the next seal (besides numbers whose writes are still in flight)',
    },
    maxEntriesPerDigest: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
    retentionDays: { type: 'integer', minimum: 1, default: 365 },
    pruneEvery: { type: 'string', default: '1 day' },
  },
} as const;

export type AuditConfig = FromSchema<typeof auditConfigSchema>;
export const AuditConfigToken = Symbol.for('audit.Config');

/** Keys actually used: from the environment, or per process in development and tests. */
export interface AuditKeys {
  readonly pseudonym: Buffer;
  readonly signing: Buffer;
}
export const AuditKeysToken = Symbol.for('audit.Keys');
