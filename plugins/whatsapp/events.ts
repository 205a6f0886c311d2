/**
 * The events this plugin hands to the workflow engine, one schema each (what `{{trigger.…}}` can
 * reach). Documented with examples in docs/whatsapp.md.
 */
import type { FromSchema } from 'json-schema-to-ts';

const nullableString = { type: ['string', 'null'] } as const;
const providerErrors = {
  type: 'array',
  items: {
    type: 'object', required: ['code', 'category', 'retryable', 'reason'],
    properties: { code: { type: 'integer' }, category: { type: 'string' }, retryable: { type: 'boolean' }, reason: { type: 'string' }, title: { type: 'string' }, details: { type: 'string' } },
  },
} as const;

export const TRIGGER_TYPES = {
  message: 'whatsapp.message@1',
  status: 'whatsapp.status@1',
  templateStatus: 'whatsapp.template-status@1',
  preferences: 'whatsapp.preferences@1',
} as const;

export const INBOUND_TYPES = ['text', 'button', 'interactive', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'contacts', 'reaction', 'order', 'system', 'unsupported', 'unknown'] as const;

export const messageEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['messageId', 'providerMessageId', 'phoneNumberId', 'from', 'fromUserId', 'contact', 'type', 'text', 'timestamp'],
  properties: {
    messageId: { type: 'string', description: 'Flowgate message id' },
    providerMessageId: { type: 'string', description: 'wamid' },
    phoneNumberId: { type: 'string', description: 'The business number that received it' },
    displayPhoneNumber: { type: 'string' },
    from: { ...nullableString, description: 'Sender phone (wa_id); null for a username user without one' },
    fromUserId: { ...nullableString, description: 'Business-scoped user id' },
    contact: {
      type: 'object', additionalProperties: false, required: ['id'],
      properties: { id: { type: 'string' }, waId: { type: 'string' }, userId: { type: 'string' }, name: { type: 'string' }, username: { type: 'string' } },
    },
    type: { type: 'string', enum: INBOUND_TYPES },
    text: { ...nullableString, description: 'Text body, button text, or the chosen reply title: what a keyword filter reads' },
    button: { type: 'object', properties: { payload: { type: 'string' }, text: { type: 'string' } } },
    reply: {
      type: 'object', description: 'Interactive reply (button_reply or list_reply)',
      properties: { kind: { type: 'string' }, id: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' } },
    },
    media: {
      type: 'object', description: 'Placeholder for image/audio/video/document/sticker: the id to download, not the bytes',
      properties: { kind: { type: 'string' }, id: { type: 'string' }, mimeType: { type: 'string' }, sha256: { type: 'string' }, caption: { type: 'string' }, filename: { type: 'string' } },
    },
    location: { type: 'object', properties: { latitude: { type: 'number' }, longitude: { type: 'number' }, name: { type: 'string' }, address: { type: 'string' } } },
    raw: { type: 'object', description: 'Unknown or unsupported content, as received' },
    errors: providerErrors,
    context: { type: 'object', properties: { messageId: { type: 'string' }, from: { type: 'string' }, forwarded: { type: 'boolean' } } },
    referral: { type: 'object' },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;
export type MessageEvent = FromSchema<typeof messageEventSchema>;

export const statusEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['providerMessageId', 'status', 'timestamp', 'phoneNumberId'],
  properties: {
    messageId: { type: 'string', description: 'Flowgate message id, when the message was sent through Flowgate' },
    providerMessageId: { type: 'string' },
    status: { type: 'string', enum: ['sent', 'delivered', 'read', 'played', 'failed'] },
    applied: { type: 'boolean', description: 'False when a later status had already arrived (the message keeps that one)' },
    phoneNumberId: { type: 'string' },
    recipientId: { type: 'string' },
    recipientUserId: { type: 'string' },
    errors: providerErrors,
    pricing: { type: 'object' },
    conversation: { type: 'object' },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;
export type StatusEvent = FromSchema<typeof statusEventSchema>;

export const templateStatusEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['event', 'templateId', 'templateName', 'language'],
  properties: {
    event: { type: 'string', description: 'APPROVED, REJECTED, PAUSED, DISABLED, PENDING_DELETION, …' },
    templateId: { type: 'string' },
    templateName: { type: 'string' },
    language: { type: 'string', description: 'Normalised to en_US form (the webhook may say en-US)' },
    reason: { ...nullableString },
    wabaId: { type: 'string' },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;
export type TemplateStatusEvent = FromSchema<typeof templateStatusEventSchema>;

export const preferencesEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['contactId', 'category', 'value', 'source', 'timestamp'],
  properties: {
    contactId: { type: 'string' },
    waId: { type: 'string' },
    userId: { type: 'string' },
    phoneNumberId: { type: 'string' },
    category: { type: 'string', description: 'marketing_messages' },
    value: { type: 'string', enum: ['stop', 'resume'] },
    source: { type: 'string', enum: ['user_preferences', 'send_error_131050'] },
    messageId: { type: 'string', description: 'For send_error_131050: the refused message' },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;
export type PreferencesEvent = FromSchema<typeof preferencesEventSchema>;
