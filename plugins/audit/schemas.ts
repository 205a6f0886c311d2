import type { FromSchema } from 'json-schema-to-ts';

const actorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'id'],
  properties: {
    kind: { enum: ['user', 'apiKey', 'workflow', 'system', 'anonymous'] },
    id: { type: 'string' },
    role: { type: 'string' },
    workflowId: { type: 'string' },
  },
} as const;

export const auditEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'seq', 'at', 'actor', 'action', 'resource', 'summary'],
  properties: {
    id: { type: 'string' },
    seq: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: actorSchema,
    action: { type: 'string' },
    resource: { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { type: 'string' }, id: { type: 'string' } } },
    subject: { type: 'string', description: 'Pseudonym of the customer concerned, never the phone number or id itself' },
    summary: { type: 'object', additionalProperties: false, properties: { before: {}, after: {} } },
    status: { type: 'integer' },
    ip: { type: 'string' },
    requestId: { type: 'string' },
    seal: {
      type: 'object', additionalProperties: false, required: ['digestNo', 'hash'],
      description: 'Present once the entry is sealed: its digest and its content hash',
      properties: { digestNo: { type: 'integer' }, hash: { type: 'string' } },
    },
  },
} as const;

export type AuditEntryView = FromSchema<typeof auditEntrySchema>;

export const auditPageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: auditEntrySchema }, nextCursor: { type: 'string' } },
} as const;

const finding = {
  type: 'object', required: ['seq', 'id', 'digestNo'],
  properties: { seq: { type: 'number' }, id: { type: 'string' }, digestNo: { type: 'integer' }, sealedSeq: { type: 'number' } },
} as const;

export const verifyReportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'digestsChecked', 'entriesChecked', 'unsealedEntries', 'unverifiableEntries', 'lastSealedSeq', 'modified', 'deleted', 'inserted', 'reordered', 'digests', 'truncated'],
  properties: {
    ok: { type: 'boolean' },
    digestsChecked: { type: 'integer' },
    entriesChecked: { type: 'integer' },
    unsealedEntries: { type: 'integer' },
    unverifiableEntries: { type: 'integer' },
    lastSealedSeq: { type: 'number' },
    modified: { type: 'array', items: finding },
    deleted: { type: 'array', items: { type: 'object', required: ['seq', 'digestNo'], properties: { seq: { type: 'number' }, digestNo: { type: 'integer' } } } },
    inserted: { type: 'array', items: finding },
    reordered: { type: 'array', items: finding },
    digests: { type: 'array', items: { type: 'object', required: ['digestNo', 'problem'], properties: { digestNo: { type: 'integer' }, problem: { type: 'string' } } } },
    truncated: { type: 'boolean' },
  },
} as const;

export const sealedEventSchema = {
  type: 'object',
  required: ['digestNo', 'firstSeq', 'lastSeq', 'count'],
  properties: { digestNo: { type: 'integer' }, firstSeq: { type: 'number' }, lastSeq: { type: 'number' }, count: { type: 'integer' } },
} as const;

export const recordInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'resource'],
  properties: {
    action: { type: 'string', pattern: '^[a-z][a-z0-9]*([._-][a-z0-9]+)*$', maxLength: 100 },
    resource: {
      type: 'object', additionalProperties: false, required: ['type'],
      properties: { type: { type: 'string', minLength: 1, maxLength: 100 }, id: { type: 'string', maxLength: 200 } },
    },
    subject: {
      type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1,
      description: 'The customer concerned; stored only as a pseudonym',
      properties: { phone: { type: 'string', pattern: '^\\+?[1-9]\\d{6,14}$' }, customerId: { type: 'string', minLength: 1, maxLength: 200 } },
    },
    details: { type: 'object', description: 'Free-form facts; secrets are removed and phone numbers pseudonymized' },
  },
} as const;

export type RecordInput = FromSchema<typeof recordInputSchema>;

export const recordOutputSchema = {
  type: 'object', additionalProperties: false, required: ['id', 'seq'],
  properties: { id: { type: 'string' }, seq: { type: 'integer' }, simulated: { type: 'boolean' } },
} as const;
