import type { FromSchema } from 'json-schema-to-ts';

export const analyticsConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['retentionDays', 'pruneEvery', 'flushEveryMs', 'realtimePushMs', 'maxFutureSkewMs', 'funnel'],
  properties: {
    retentionDays: {
      type: 'integer', minimum: 1, maximum: 36_500, default: 90,
      description: 'Raw events older than this are pruned, and refused at ingestion (so an id stays deduplicated for as long as it is kept); rollups are kept',
    },
    pruneEvery: { type: 'string', minLength: 1, default: '1 day', description: 'How often the retention job runs (Agenda interval)' },
    flushEveryMs: { type: 'integer', minimum: 50, maximum: 60_000, default: 1_000, description: 'How often buffered counts move from Redis to the rollup documents' },
    realtimePushMs: { type: 'integer', minimum: 250, maximum: 60_000, default: 2_000, description: 'At most one `analytics.realtime` push per this interval, and only when something was counted' },
    maxFutureSkewMs: { type: 'integer', minimum: 0, default: 300_000, description: 'Events dated further than this in the future are refused' },
    funnel: {
      type: 'array', minItems: 2, maxItems: 8,
      description: 'Funnel stages in order, each counted from one event type',
      items: {
        type: 'object', additionalProperties: false, required: ['name', 'type'],
        properties: { name: { type: 'string', minLength: 1, maxLength: 40 }, type: { type: 'string', minLength: 3, maxLength: 64 } },
      },
      default: [
        { name: 'contact', type: 'contact.created' },
        { name: 'message', type: 'message.sent' },
        { name: 'reply', type: 'message.replied' },
        { name: 'sale', type: 'sale.recorded' },
      ],
    },
  },
} as const;

export type AnalyticsConfig = FromSchema<typeof analyticsConfigSchema>;
export const AnalyticsConfigToken = Symbol.for('analytics.Config');
