/** Schemas of the analytics routes and topic: each exists once. */
import type { FromSchema } from 'json-schema-to-ts';

export const eventTypeSchema = {
  type: 'string', minLength: 3, maxLength: 64, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$',
  description: '`area.fact` in lower case, e.g. `message.delivered`, `sale.recorded`, `web.visit`',
} as const;

export const dimensionsSchema = {
  type: 'object', maxProperties: 10,
  // Keys become part of rollup document paths: no dots, no leading `$`.
  propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]{0,39}$' },
  additionalProperties: { type: 'string', minLength: 1, maxLength: 200 },
  description: 'What the figures can be broken down by, e.g. {"campaignId": "spring", "currency": "EUR"}',
} as const;

/** One event as a client sends it. */
export const ingestEventSchema = {
  type: 'object', additionalProperties: false, required: ['id', 'type', 'occurredAt'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200, description: 'Unique per fact: sending the same id again counts nothing' },
    type: eventTypeSchema,
    occurredAt: { type: 'string', format: 'date-time' },
    dimensions: dimensionsSchema,
    value: { type: 'integer', minimum: -9_007_199_254_740_991, maximum: 9_007_199_254_740_991, description: 'A whole quantity to sum, e.g. an amount in minor units' },
  },
} as const;

export const ingestBodySchema = {
  type: 'object', additionalProperties: false, required: ['events'],
  properties: { events: { type: 'array', minItems: 1, maxItems: 1_000, items: ingestEventSchema } },
} as const;
export type IngestBody = FromSchema<typeof ingestBodySchema>;

export const ingestResultSchema = {
  type: 'object', additionalProperties: false, required: ['accepted', 'duplicates', 'rejected', 'results'],
  properties: {
    accepted: { type: 'integer' }, duplicates: { type: 'integer' }, rejected: { type: 'integer' },
    results: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['id', 'outcome'],
        properties: { id: { type: 'string' }, outcome: { type: 'string', enum: ['accepted', 'duplicate', 'rejected'] }, code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

export const eventViewSchema = {
  type: 'object', additionalProperties: false, required: ['id', 'type', 'occurredAt', 'dimensions', 'source', 'receivedAt'],
  properties: {
    id: { type: 'string' }, type: { type: 'string' }, occurredAt: { type: 'string', format: 'date-time' },
    dimensions: { type: 'object', additionalProperties: { type: 'string' } }, value: { type: 'number' },
    source: { type: 'string', enum: ['plugin', 'api'] }, receivedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const instantOrDate = {
  type: 'string', maxLength: 40, anyOf: [{ format: 'date' }, { format: 'date-time' }],
  description: 'A local date (YYYY-MM-DD: its start in `tz`) or an instant (rounded down to the hour)',
} as const;

/** Query parameters every figures route takes. */
export const periodQueryProperties = {
  from: { ...instantOrDate, description: `${instantOrDate.description}; default: 7 days before \`to\`` },
  to: { ...instantOrDate, description: `${instantOrDate.description}, exclusive; default: the end of the current hour` },
  tz: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC', description: 'IANA time zone for day buckets and dates, e.g. Europe/Paris' },
} as const;

export const intervalProperty = { interval: { type: 'string', enum: ['hour', 'day'], default: 'day' } } as const;

const filterValue = { type: 'string', minLength: 1, maxLength: 200 } as const;
/** Dimension filters, by name: each route accepts the ones its figures carry. */
export const filterProperties = {
  phoneNumberId: filterValue, templateName: filterValue, campaignId: filterValue, category: filterValue,
  workflowId: filterValue, agentId: filterValue, source: filterValue, keyword: filterValue,
} as const;
export type FilterName = keyof typeof filterProperties;

export const periodViewSchema = {
  type: 'object', additionalProperties: false, required: ['from', 'to', 'timeZone', 'exactDayBoundaries'],
  properties: {
    from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, timeZone: { type: 'string' },
    exactDayBoundaries: { type: 'boolean', description: 'False for zones with 30/45-minute offsets: local days are rounded to whole UTC hours' },
  },
} as const;

const count = { type: 'integer', minimum: 0 } as const;
const rate = { type: ['number', 'null'] } as const;
const bucketProperties = {
  key: { type: 'string' }, start: { type: 'string', format: 'date-time' }, label: { type: 'string' }, hours: { type: 'integer' },
} as const;
const bucketRequired = ['key', 'start', 'label', 'hours'] as const;

/** A series answer: its period and interval, one row of `counts` per bucket, and their totals. */
function seriesResultSchema<C extends Record<string, unknown>>(counts: C) {
  const names = Object.keys(counts);
  return {
    type: 'object', required: ['period', 'interval', 'buckets', 'totals'],
    properties: {
      period: periodViewSchema, interval: { type: 'string' },
      buckets: { type: 'array', items: { type: 'object', required: [...bucketRequired, ...names], properties: { ...bucketProperties, ...counts } } },
      totals: { type: 'object', required: names, properties: counts },
    },
  } as const;
}

export const messagesResultSchema = seriesResultSchema({ sent: count, delivered: count, read: count, failed: count, received: count, replied: count });
const messageCounts = messagesResultSchema.properties.totals.properties;
export const deliveryRatesResultSchema = seriesResultSchema({ sent: count, delivered: count, read: count, failed: count, deliveryRate: rate, readRate: rate, failureRate: rate });

const consentCounts = { optedIn: count, optedOut: count } as const;
export const consentResultSchema = {
  type: 'object', required: ['period', 'interval', 'buckets', 'totals', 'bySource', 'byKeyword'],
  properties: {
    period: periodViewSchema, interval: { type: 'string' },
    buckets: { type: 'array', items: { type: 'object', required: [...bucketRequired, 'optedIn', 'optedOut'], properties: { ...bucketProperties, ...consentCounts } } },
    totals: { type: 'object', required: ['optedIn', 'optedOut'], properties: consentCounts },
    bySource: { type: 'array', items: { type: 'object', required: ['source', 'optedIn', 'optedOut'], properties: { source: { type: 'string' }, ...consentCounts } } },
    byKeyword: { type: 'array', items: { type: 'object', required: ['keyword', 'optedIn', 'optedOut'], properties: { keyword: { type: 'string' }, ...consentCounts } } },
  },
} as const;

/** A breakdown answer: its period and one item per workflow, template…, each with all of `fields`. */
function itemsResultSchema<F extends Record<string, unknown>>(fields: F) {
  return {
    type: 'object', required: ['period', 'items'],
    properties: { period: periodViewSchema, items: { type: 'array', items: { type: 'object', required: Object.keys(fields), properties: fields } } },
  } as const;
}

export const workflowsResultSchema = itemsResultSchema({
  workflowId: { type: 'string' }, executions: count, succeeded: count, failed: count, cancelled: count, failureRate: rate, averageDurationMs: { type: ['integer', 'null'] },
});

export const templatesResultSchema = itemsResultSchema({
  templateName: { type: 'string' }, sent: count, delivered: count, read: count, failed: count, replied: count, readRate: rate, replyRate: rate,
});

const salesSchema = {
  type: 'array',
  items: { type: 'object', required: ['currency', 'count', 'amount'], properties: { currency: { type: 'string' }, count, amount: { type: 'number', description: 'Sum of sale values (minor units)' } } },
} as const;

export const funnelResultSchema = {
  type: 'object', required: ['period', 'stages', 'sales'],
  properties: {
    period: periodViewSchema,
    stages: {
      type: 'array',
      items: {
        type: 'object', required: ['name', 'type', 'count', 'fromPrevious', 'fromFirst'],
        properties: { name: { type: 'string' }, type: { type: 'string' }, count, fromPrevious: rate, fromFirst: rate },
      },
    },
    sales: salesSchema,
  },
} as const;

export const overviewResultSchema = {
  type: 'object', required: ['period', 'messages', 'rates', 'consent', 'contacts', 'workflows', 'sales', 'byType'],
  properties: {
    period: periodViewSchema,
    messages: { type: 'object', required: Object.keys(messageCounts), properties: messageCounts },
    rates: { type: 'object', required: ['delivery', 'read', 'reply'], properties: { delivery: rate, read: rate, reply: rate } },
    consent: { type: 'object', required: ['optedIn', 'optedOut'], properties: consentCounts },
    contacts: { type: 'object', required: ['created'], properties: { created: count } },
    workflows: { type: 'object', required: ['executions', 'failed'], properties: { executions: count, failed: count } },
    sales: { type: 'object', required: ['count', 'byCurrency'], properties: { count, byCurrency: salesSchema } },
    byType: { type: 'array', items: { type: 'object', required: ['type', 'count', 'sum'], properties: { type: { type: 'string' }, count, sum: { type: 'number' } } } },
  },
} as const;

export const realtimeSnapshotSchema = {
  type: 'object', required: ['minutes', 'totals', 'total'],
  properties: {
    minutes: {
      type: 'array',
      items: {
        type: 'object', required: ['minute', 'total', 'counts'],
        properties: { minute: { type: 'string', format: 'date-time' }, total: count, counts: { type: 'object', additionalProperties: count } },
      },
    },
    totals: { type: 'object', additionalProperties: count },
    total: count,
  },
} as const;
