/** Request and action schemas shared by the routes and the workflow actions. */
import type { FromSchema } from 'json-schema-to-ts';

export const recipientSchema = {
  type: 'string', minLength: 3, maxLength: 140,
  pattern: '^(\\+?[0-9][0-9 ()-]{5,30}|[A-Z]{2}\\.[A-Za-z0-9]{1,128})$',
  description: 'Phone number with country code (+, spaces, dashes and brackets allowed) or a business-scoped user id (US.123…)',
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
    components: { type: 'array', items: { type: 'object' }, maxItems: 20, description: 'Header and button components in the Graph API shape' },
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
