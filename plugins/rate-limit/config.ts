import type { FromSchema } from 'json-schema-to-ts';

/** Meta's messaging limit tiers: unique recipients outside a service window per moving 24 hours. */
export const TIER_NAMES = ['TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED'] as const;
export type Tier = (typeof TIER_NAMES)[number];

const cap = { type: 'integer', minimum: 1 } as const;
const senderCaps = {
  perSecond: { type: 'integer', minimum: 1, maximum: 1000, description: 'Messages per second from one sender number (Meta: 80 by default, up to 1,000)' },
  hourly: { ...cap, description: 'Messages per hour from one sender number; none when absent' },
  daily: { ...cap, description: 'Messages per day from one sender number; none when absent' },
  warningThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Share of a cap at which the warning is raised, once per window' },
} as const;

/** Settings of the rate-limit plugin (id `rate`). Routes change tier, caps and threshold at run time (kept in Redis). */
export const rateConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tier', 'perSecond', 'warningThreshold', 'messagingLimits', 'portfolios', 'senders', 'pair', 'backoff', 'pausedRecheckMs', 'windows'],
  properties: {
    tier: { type: 'string', enum: TIER_NAMES, default: 'TIER_250', description: 'Messaging limit tier of a portfolio that does not set its own' },
    perSecond: { ...senderCaps.perSecond, default: 80 },
    hourly: senderCaps.hourly,
    daily: senderCaps.daily,
    warningThreshold: { ...senderCaps.warningThreshold, default: 0.8 },
    messagingLimits: {
      type: 'object', additionalProperties: false, required: ['TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K'], default: {},
      description: 'Unique recipients each tier allows (Meta\'s figures; change them only if Meta does, or in tests)',
      properties: {
        TIER_250: { type: 'integer', minimum: 1, default: 250 }, TIER_2K: { type: 'integer', minimum: 1, default: 2000 },
        TIER_10K: { type: 'integer', minimum: 1, default: 10000 }, TIER_100K: { type: 'integer', minimum: 1, default: 100000 },
      },
    },
    portfolios: {
      type: 'object', default: {},
      description: 'Business portfolios by id: their sender numbers share one messaging limit. A sender in none is a portfolio of its own',
      additionalProperties: {
        type: 'object', additionalProperties: false, required: ['senders'],
        properties: { tier: { type: 'string', enum: TIER_NAMES }, senders: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^\\d+$' } } },
      },
    },
    senders: {
      type: 'object', default: {}, description: 'Per sender number (phone number id): caps that differ from the defaults above',
      propertyNames: { pattern: '^\\d+$' },
      additionalProperties: { type: 'object', additionalProperties: false, properties: senderCaps },
    },
    pair: {
      type: 'object', additionalProperties: false, required: ['burst', 'intervalMs'], default: {},
      description: 'Messages from one sender to one recipient: a burst, then one per interval (Meta error 131056 beyond)',
      properties: { burst: { type: 'integer', minimum: 1, default: 45 }, intervalMs: { type: 'integer', minimum: 1, default: 6000 } },
    },
    backoff: {
      type: 'object', additionalProperties: false, required: ['baseMs', 'maxMs', 'resetAfterMs'], default: {},
      description: 'After a provider rate-limit error: exponential backoff with jitter for that sender (or pair)',
      properties: {
        baseMs: { type: 'integer', minimum: 1, default: 2000 },
        maxMs: { type: 'integer', minimum: 1, default: 600000 },
        resetAfterMs: { type: 'integer', minimum: 1, default: 900000, description: 'Quiet time after which the next error starts from baseMs again' },
      },
    },
    pausedRecheckMs: { type: 'integer', minimum: 100, default: 30000, description: 'A send deferred by a pause without an end is checked again after this long' },
    windows: {
      type: 'object', additionalProperties: false, required: ['secondMs', 'hourMs', 'dayMs', 'messagingMs'], default: {},
      description: 'Window lengths; shorten them only in tests',
      properties: {
        secondMs: { type: 'integer', minimum: 10, default: 1000 },
        hourMs: { type: 'integer', minimum: 10, default: 3600000 },
        dayMs: { type: 'integer', minimum: 10, default: 86400000 },
        messagingMs: { type: 'integer', minimum: 10, default: 86400000, description: 'The moving window of the messaging limit' },
      },
    },
  },
} as const;

export type RateConfig = FromSchema<typeof rateConfigSchema>;
export const RateConfigToken = Symbol.for('rate.Config');
