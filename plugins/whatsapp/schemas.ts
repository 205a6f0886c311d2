/** Request and action schemas shared by the routes and the workflow actions. */
import type { FromSchema } from 'json-schema-to-ts';

export const recipientSchema = {
  type: 'string', minLength: 3, maxLength: 140,
  pattern: '^(\\+?[0-9][0-9 ()-]{5,30}|[A-Z]{2}\\.[A-Za-z0-9]{1,128})$',
  description: 'Phone number with country code (+, spaces, dashes and brackets allowed) or a business-scoped user id (US.123…)',
} as const;

const mediaParameterSchema = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { link: { type: 'string', format: 'uri', maxLength: 2048 }, id: { type: 'string', minLength: 1, maxLength: 128 }, filename: { type: 'string', minLength: 1, maxLength: 240 } },
} as const;

/**
 * One parameter of a send component, in the Graph API shape. Declared field by field (not "any
 * object"): components are stored with the message, and free-form keys (`a.b`, `$x`) are refused
 * by the database, which turned garbage into a 500.
 */
const templateParameterSchema = {
  type: 'object', additionalProperties: false, required: ['type'],
  properties: {
    type: { type: 'string', enum: ['text', 'currency', 'date_time', 'image', 'document', 'video', 'location', 'payload', 'coupon_code'] },
    parameter_name: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$', maxLength: 64 },
    text: { type: 'string', maxLength: 4096 },
    payload: { type: 'string', maxLength: 1024 },
    coupon_code: { type: 'string', minLength: 1, maxLength: 64 },
    currency: {
      type: 'object', additionalProperties: false, required: ['fallback_value', 'code', 'amount_1000'],
      properties: { fallback_value: { type: 'string', maxLength: 256 }, code: { type: 'string', pattern: '^[A-Z]{3}$' }, amount_1000: { type: 'integer', minimum: -9_007_199_254_740_991, maximum: 9_007_199_254_740_991 } },
    },
    date_time: { type: 'object', additionalProperties: false, required: ['fallback_value'], properties: { fallback_value: { type: 'string', maxLength: 256 } } },
    image: mediaParameterSchema, document: mediaParameterSchema, video: mediaParameterSchema,
    location: {
      type: 'object', additionalProperties: false, required: ['latitude', 'longitude'],
      properties: { latitude: { type: 'number', minimum: -90, maximum: 90 }, longitude: { type: 'number', minimum: -180, maximum: 180 }, name: { type: 'string', maxLength: 1024 }, address: { type: 'string', maxLength: 1024 } },
    },
  },
} as const;

/** A header, body or button component of a template send, e.g. `{type: 'button', sub_type: 'url', index: '0', parameters: [...]}`. */
const templateComponentSchema = {
  type: 'object', additionalProperties: false, required: ['type'],
  properties: {
    type: { type: 'string', enum: ['header', 'body', 'button'] },
    sub_type: { type: 'string', enum: ['quick_reply', 'url', 'copy_code', 'flow', 'catalog', 'voice_call'] },
    index: { anyOf: [{ type: 'string', pattern: '^[0-9]{1,2}$' }, { type: 'integer', minimum: 0, maximum: 99 }], description: 'The button position, from 0' },
    parameters: { type: 'array', maxItems: 100, items: templateParameterSchema },
  },
} as const;

export const templateContentSchema = {
  type: 'object', additionalProperties: false, required: ['name', 'language'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9_]{1,512}$' },
    language: { type: 'string', pattern: '^[a-z]{2,3}([_-][A-Za-z]{2,4})?$' },
    variables: {
      description: 'Body parameters: a list in placeholder order, or named values',
      anyOf: [
        { type: 'array', items: { type: 'string', maxLength: 1024 }, maxItems: 100 },
        { type: 'object', additionalProperties: { type: 'string', maxLength: 1024 }, propertyNames: { pattern: '^[a-z_][a-z0-9_]*$' } },
      ],
    },
    components: { type: 'array', items: templateComponentSchema, maxItems: 20, description: 'Header and button components in the Graph API shape' },
  },
} as const;

const buttonsSchema = {
  type: 'array', minItems: 1, maxItems: 3,
  items: { type: 'object', additionalProperties: false, required: ['id', 'title'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 }, title: { type: 'string', minLength: 1, maxLength: 20 } } },
} as const;

const contentProperties = {
  text: { type: 'string', minLength: 1, maxLength: 4096 },
  previewUrl: { type: 'boolean' },
  template: templateContentSchema,
  buttons: { ...buttonsSchema, description: 'Reply buttons: sends an interactive message with `text` as its body' },
} as const;

/** One text, interactive or template message: `whatsapp.send@1` input and the body of POST /api/messages. */
export const sendInputSchema = {
  type: 'object', additionalProperties: false, required: ['to'],
  properties: { to: recipientSchema, from: { type: 'string', pattern: '^\\d+$', description: 'Sender phone number id; the first configured one by default' }, ...contentProperties },
  oneOf: [{ required: ['text'], not: { required: ['template'] } }, { required: ['template'], not: { anyOf: [{ required: ['text'] }, { required: ['buttons'] }] } }],
} as const;
export type SendInput = FromSchema<typeof sendInputSchema>;

export const replyInputSchema = {
  type: 'object', additionalProperties: false, required: ['messageId'],
  properties: { messageId: { type: 'string', minLength: 1, description: 'wamid of the inbound message answered ({{trigger.providerMessageId}})' }, ...contentProperties },
  oneOf: [{ required: ['text'], not: { required: ['template'] } }, { required: ['template'], not: { anyOf: [{ required: ['text'] }, { required: ['buttons'] }] } }],
} as const;
export type ReplyInput = FromSchema<typeof replyInputSchema>;

export const markReadInputSchema = {
  type: 'object', additionalProperties: false, required: ['messageId'],
  properties: { messageId: { type: 'string', minLength: 1, description: 'wamid of the inbound message' } },
} as const;

export const sendOutputSchema = {
  type: 'object', additionalProperties: false, required: ['messageId', 'status'],
  properties: { messageId: { type: 'string' }, providerMessageId: { type: 'string' }, status: { type: 'string' } },
} as const;
export type SendOutput = FromSchema<typeof sendOutputSchema>;
