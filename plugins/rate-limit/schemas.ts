import { TIER_NAMES } from './config.js';

const nullableCap = { type: ['integer', 'null'], minimum: 1 } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const senderParamsSchema = {
  type: 'object', additionalProperties: false, required: ['phoneNumberId'],
  properties: { phoneNumberId: { type: 'string', pattern: '^\\d{1,32}$', description: 'The sender\'s WhatsApp phone number id' } },
} as const;

/** One sender number: its limits, what it used in the current windows, pause and backoff. */
export const senderViewSchema = {
  type: 'object', additionalProperties: false,
  required: ['phoneNumberId', 'portfolio', 'tier', 'messagingLimit', 'paused', 'pausedUntil', 'backoffUntil', 'limits', 'usage', 'windows'],
  properties: {
    phoneNumberId: { type: 'string' },
    portfolio: { type: ['string', 'null'], description: 'Business portfolio sharing the messaging limit; null when the number has its own' },
    tier: { type: 'string', enum: TIER_NAMES },
    messagingLimit: { type: ['integer', 'null'], description: 'Unique recipients outside a service window per moving 24 hours; null: unlimited' },
    paused: { type: 'boolean' },
    pausedUntil: { ...nullableTime, description: 'End of a timed pause; null while paused until resumed' },
    backoffUntil: { ...nullableTime, description: 'End of the backoff after a provider rate-limit error' },
    limits: {
      type: 'object', additionalProperties: false, required: ['perSecond', 'hourly', 'daily', 'warningThreshold'],
      properties: { perSecond: { type: 'integer' }, hourly: nullableCap, daily: nullableCap, warningThreshold: { type: 'number' } },
    },
    usage: {
      type: 'object', additionalProperties: false, required: ['second', 'hour', 'day', 'uniqueRecipients'],
      properties: {
        second: { type: 'integer' }, hour: { type: 'integer' }, day: { type: 'integer' },
        uniqueRecipients: { type: 'integer', description: 'For the whole portfolio, in the moving 24-hour window' },
      },
    },
    windows: {
      type: 'object', additionalProperties: false, required: ['hourEndsAt', 'dayEndsAt'],
      properties: { hourEndsAt: { type: 'string', format: 'date-time' }, dayEndsAt: { type: 'string', format: 'date-time' } },
    },
  },
} as const;

export const limitChangesSchema = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: {
    tier: { type: 'string', enum: TIER_NAMES, description: 'Messaging limit tier of the sender\'s portfolio (every number of it)' },
    perSecond: { type: 'integer', minimum: 1, maximum: 1000 },
    hourly: { ...nullableCap, description: 'null removes the cap' },
    daily: { ...nullableCap, description: 'null removes the cap' },
    warningThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  },
} as const;

export const pauseBodySchema = {
  type: 'object', additionalProperties: false,
  properties: { until: { type: 'string', format: 'date-time', description: 'Resume by itself at this time; paused until resumed when omitted' } },
} as const;
