/** Every JSON schema of the sales plugin, once; TypeScript types are derived from them. */
import type { FromSchema } from 'json-schema-to-ts';
import { currencySchema } from './currencies.js';

/** E.164: a country code and number, up to 15 digits; `+`, spaces, dashes and brackets are dropped. */
export const phoneSchema = { type: 'string', pattern: '^\\+?[1-9][0-9 ()-]{5,20}$', description: 'Phone number with its country code (E.164)' } as const;
const idText = { type: 'string', minLength: 1, maxLength: 128 } as const;
/** At most 10^12 minor units (ten billion euros): sums of a year of sales stay exact integers. */
export const amountSchema = { type: 'integer', minimum: 1, maximum: 1_000_000_000_000, description: 'Amount in the currency\'s minor units (cents for EUR), a whole number' } as const;

export const attributionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    campaignId: idText,
    templateName: { type: 'string', minLength: 1, maxLength: 512 },
    workflowId: idText,
    executionId: idText,
  },
} as const;

const saleFields = {
  contactPhone: phoneSchema,
  amount: amountSchema,
  currency: currencySchema,
  minorUnits: { type: 'integer', minimum: 0, maximum: 4, description: 'Optional check: the minor-unit digits the client assumes for the currency' },
  agentId: { ...idText, description: 'The selling agent (a user id); defaults to the caller, or to the lead\'s owner in workflows' },
  attribution: attributionSchema,
  notes: { type: 'string', maxLength: 2000 },
  soldAt: { type: 'string', format: 'date-time', description: 'When the sale was made; defaults to now' },
} as const;

export const recordSaleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['contactPhone', 'amount', 'currency'],
  properties: { ...saleFields, idempotencyKey: { type: 'string', minLength: 8, maxLength: 200 } },
} as const;
export type RecordSaleRequest = FromSchema<typeof recordSaleSchema>;

export const updateSaleSchema = { type: 'object', additionalProperties: false, minProperties: 1, properties: saleFields } as const;
export type UpdateSaleRequest = FromSchema<typeof updateSaleSchema>;

export const saleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'contactPhone', 'amount', 'currency', 'minorUnits', 'amountDecimal', 'agentId', 'attribution', 'status', 'soldAt', 'recordedBy', 'revision', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    contactPhone: { type: 'string' },
    amount: { type: 'integer' },
    currency: { type: 'string' },
    minorUnits: { type: 'integer' },
    amountDecimal: { type: 'string', description: 'The amount in major units, exact: "12.50"' },
    agentId: { type: 'string' },
    attribution: attributionSchema,
    status: { enum: ['recorded', 'voided'] },
    notes: { type: 'string' },
    soldAt: { type: 'string', format: 'date-time' },
    recordedBy: { type: 'string' },
    revision: { type: 'integer', description: 'Grows when amount, currency, agent, attribution or date change' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    voidedAt: { type: 'string', format: 'date-time' },
    voidedBy: { type: 'string' },
    voidReason: { type: 'string' },
  },
} as const;
export type SaleView = FromSchema<typeof saleSchema>;

/** Filters shared by the list, the reports and the export. */
export const saleFilterProperties = {
  from: { type: 'string', format: 'date-time', description: 'Sold at or after' },
  to: { type: 'string', format: 'date-time', description: 'Sold before' },
  agentId: idText,
  campaignId: idText,
  templateName: { type: 'string', minLength: 1, maxLength: 512 },
  workflowId: idText,
  currency: currencySchema,
  contactPhone: phoneSchema,
} as const;

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;

export const leadSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['phone', 'tags', 'status', 'createdAt', 'updatedAt'],
  properties: {
    phone: { type: 'string', description: 'E.164 digits' },
    name: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    ownerAgentId: { type: 'string' },
    status: { enum: LEAD_STATUSES },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;
export type LeadView = FromSchema<typeof leadSchema>;

export const putLeadSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    tags: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', pattern: '^[\\p{L}\\p{N}_:-]{1,40}$' } },
    ownerAgentId: idText,
    status: { enum: LEAD_STATUSES },
  },
} as const;
export type PutLeadRequest = FromSchema<typeof putLeadSchema>;

const figure = {
  type: 'object',
  additionalProperties: false,
  required: ['currency', 'minorUnits', 'amount', 'amountDecimal', 'count'],
  properties: { currency: { type: 'string' }, minorUnits: { type: 'integer' }, amount: { type: 'integer' }, amountDecimal: { type: 'string' }, count: { type: 'integer' } },
} as const;

export const summarySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['granularity', 'timezone', 'totals', 'buckets'],
  properties: {
    granularity: { enum: ['day', 'week', 'month'] },
    timezone: { type: 'string' },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    totals: { type: 'array', items: figure, description: 'One per currency: amounts in different currencies are never added' },
    buckets: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['key', 'start', 'end', ...figure.required],
        properties: { key: { type: 'string' }, start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' }, ...figure.properties },
      },
    },
  },
} as const;
export type SummaryView = FromSchema<typeof summarySchema>;

export const BREAKDOWN_DIMENSIONS = ['agent', 'campaign', 'template'] as const;
export type BreakdownDimension = (typeof BREAKDOWN_DIMENSIONS)[number];

export const breakdownSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['by', 'rows'],
  properties: {
    by: { enum: BREAKDOWN_DIMENSIONS },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    rows: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['key', ...figure.required],
        properties: { key: { type: ['string', 'null'], description: 'null: sales without this attribution' }, ...figure.properties },
      },
    },
  },
} as const;
export type BreakdownView = FromSchema<typeof breakdownSchema>;

/** What a recurring (or workflow-made) report computes. */
export const reportSpecProperties = {
  window: { enum: ['day', 'week', 'month'], description: 'The report covers the previous complete day, ISO week or month in `timezone`' },
  granularity: { enum: ['day', 'week', 'month'], default: 'day', description: 'Buckets of the summary inside the window' },
  breakdownBy: { enum: BREAKDOWN_DIMENSIONS },
  timezone: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC' },
  filters: {
    type: 'object', additionalProperties: false,
    properties: { agentId: idText, campaignId: idText, templateName: saleFilterProperties.templateName, workflowId: idText, currency: currencySchema },
  },
} as const;

export const deliverToSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^https?://', maxLength: 2000 },
    headers: { type: 'object', maxProperties: 20, additionalProperties: { type: 'string', maxLength: 2000 } },
  },
} as const;

export const scheduleRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'cron', 'window'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    cron: { type: 'string', minLength: 9, maxLength: 100, description: 'Cron expression, read in `timezone`: "0 8 * * 1" is Mondays at 08:00' },
    ...reportSpecProperties,
    deliverTo: deliverToSchema,
  },
} as const;
export type ScheduleRequest = FromSchema<typeof scheduleRequestSchema>;

const reportSpecView = {
  type: 'object', additionalProperties: false, required: ['window', 'granularity', 'timezone'],
  properties: reportSpecProperties,
} as const;
export type ReportSpec = FromSchema<typeof reportSpecView>;

export const scheduleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'cron', 'spec', 'createdBy', 'createdAt', 'nextRunAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    cron: { type: 'string' },
    spec: reportSpecView,
    deliverTo: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: { type: 'string' }, headerNames: { type: 'array', items: { type: 'string' } } } },
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    nextRunAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
export type ScheduleView = FromSchema<typeof scheduleSchema>;

export const reportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'source', 'spec', 'from', 'to', 'generatedAt', 'summary'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    source: { type: 'object', additionalProperties: false, required: ['kind', 'id'], properties: { kind: { enum: ['schedule', 'workflow'] }, id: { type: 'string' } } },
    spec: reportSpecView,
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    generatedAt: { type: 'string', format: 'date-time' },
    summary: summarySchema,
    breakdown: breakdownSchema,
    delivery: {
      type: 'object', additionalProperties: false, required: ['url', 'status', 'attempts'],
      properties: { url: { type: 'string' }, status: { enum: ['delivered', 'failed'] }, attempts: { type: 'integer' }, httpStatus: { type: 'integer' }, error: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
    },
  },
} as const;
export type ReportView = FromSchema<typeof reportSchema>;
