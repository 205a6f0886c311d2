/** Schemas shared by the routes, actions and topic: each exists once. */
import { CONSENT_SOURCES, CONSENT_STATES } from './models/consent.js';
import { phoneSchema } from './phone.js';

export const evidenceSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    messageId: { type: 'string', maxLength: 256, description: 'Message that carried the change (wamid)' },
    text: { type: 'string', maxLength: 4096, description: 'Words received, verbatim' },
    actor: { type: 'string', maxLength: 256, description: 'Who recorded it: user id, workflow, import job' },
    note: { type: 'string', maxLength: 1000 },
  },
} as const;

export const consentViewSchema = {
  type: 'object', additionalProperties: false, required: ['phone', 'state', 'blocked'],
  properties: {
    phone: { type: 'string' },
    state: { type: 'string', enum: CONSENT_STATES },
    source: { type: 'string', enum: CONSENT_SOURCES },
    evidence: evidenceSchema,
    changedAt: { type: 'string', format: 'date-time' },
    blocked: { type: 'boolean' },
    block: {
      type: 'object', additionalProperties: false, required: ['until', 'reason', 'kind'],
      properties: { until: { type: 'string', format: 'date-time' }, reason: { type: 'string' }, kind: { type: 'string', enum: ['manual', 'automatic'] }, by: { type: 'string' } },
    },
  },
} as const;

export const changeViewSchema = {
  type: 'object', additionalProperties: false, required: ['id', 'state', 'source', 'evidence', 'at', 'recordedAt'],
  properties: {
    id: { type: 'string' }, state: { type: 'string', enum: ['opted_in', 'opted_out'] }, source: { type: 'string', enum: CONSENT_SOURCES },
    evidence: evidenceSchema, at: { type: 'string', format: 'date-time' }, recordedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** Input of `consent.revoke@1` and `consent.grant@1`. */
export const changeInputSchema = {
  type: 'object', additionalProperties: false, required: ['phone'],
  properties: {
    phone: phoneSchema,
    source: { type: 'string', enum: CONSENT_SOURCES, default: 'keyword' },
    evidence: evidenceSchema,
    at: { type: 'string', format: 'date-time', description: 'When the customer acted (the message time); now when omitted' },
  },
} as const;

export const changeOutputSchema = {
  type: 'object', additionalProperties: false, required: ['phone', 'state', 'recorded', 'changeId'],
  properties: { phone: { type: 'string' }, state: { type: 'string', enum: CONSENT_STATES }, recorded: { type: 'boolean' }, changeId: { type: 'string' } },
} as const;

export const classifyInputSchema = {
  type: 'object', additionalProperties: false, required: ['text'],
  properties: { text: { type: ['string', 'null'], maxLength: 4096, description: 'Inbound text ({{trigger.text}}); null for media' } },
} as const;

export const classifyOutputSchema = {
  type: 'object', additionalProperties: false, required: ['classification'],
  properties: { classification: { type: 'string', enum: ['opt-out', 'opt-in', 'help', 'none'] }, keyword: { type: 'string' }, language: { type: 'string' } },
} as const;
