/** The API and socket shape of a message: one schema, one converter. */
import type { FromSchema } from 'json-schema-to-ts';
import type { Message } from './models/message.js';

const providerError = {
  type: 'object', required: ['code', 'category', 'retryable', 'reason'],
  properties: {
    code: { type: 'integer' }, category: { type: 'string' }, retryable: { type: 'boolean' }, reason: { type: 'string' },
    title: { type: 'string' }, details: { type: 'string' }, httpStatus: { type: 'integer' }, fbtraceId: { type: 'string' },
  },
} as const;

export const messageViewSchema = {
  type: 'object',
  required: ['id', 'direction', 'phoneNumberId', 'type', 'status', 'timeline', 'attempts', 'origin', 'createdAt'],
  properties: {
    id: { type: 'string' },
    direction: { type: 'string', enum: ['inbound', 'outbound'] },
    phoneNumberId: { type: 'string' },
    contactId: { type: 'string' },
    phone: { type: 'string' },
    userId: { type: 'string' },
    type: { type: 'string' },
    text: { type: 'string' },
    template: { type: 'object' },
    interactive: { type: 'object' },
    content: { type: 'object' },
    context: { type: 'object' },
    providerMessageId: { type: 'string' },
    status: { type: 'string' },
    timeline: {
      type: 'array',
      items: {
        type: 'object', required: ['status', 'at', 'source'],
        properties: { status: { type: 'string' }, at: { type: 'string' }, source: { type: 'string' }, errors: { type: 'array', items: providerError }, pricing: { type: 'object' }, conversation: { type: 'object' } },
      },
    },
    error: providerError,
    policyDecisions: { type: 'array', items: { type: 'object' } },
    attempts: { type: 'integer' },
    origin: { type: 'string' },
    campaignId: { type: 'string' },
    scheduledFor: { type: 'string' },
    sentAt: { type: 'string' },
    deliveredAt: { type: 'string' },
    readAt: { type: 'string' },
    failedAt: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const;
export type MessageView = FromSchema<typeof messageViewSchema>;
export const providerErrorSchema = providerError;

const iso = (value: Date | undefined) => (value ? new Date(value).toISOString() : undefined);

export function toMessageView(doc: Message): MessageView {
  const view: Record<string, unknown> = {
    id: String(doc._id), direction: doc.direction, phoneNumberId: doc.phoneNumberId, contactId: doc.contactId, phone: doc.phone, userId: doc.userId,
    type: doc.type, text: doc.text, template: doc.template, interactive: doc.interactive, content: doc.content, context: doc.context,
    providerMessageId: doc.providerMessageId, status: doc.status,
    timeline: (doc.timeline ?? []).map((e) => ({ ...e, at: new Date(e.at).toISOString() })).sort((a, b) => a.at.localeCompare(b.at)),
    error: doc.error, policyDecisions: (doc.policyDecisions ?? []).map((d) => ({ ...d, ...(d.until ? { until: new Date(d.until).toISOString() } : {}) })),
    attempts: doc.attempts ?? 0, origin: doc.origin, campaignId: doc.campaignId, scheduledFor: iso(doc.scheduledFor),
    sentAt: iso(doc.sentAt), deliveredAt: iso(doc.deliveredAt), readAt: iso(doc.readAt), failedAt: iso(doc.failedAt), createdAt: iso(doc.createdAt),
  };
  for (const key of Object.keys(view)) if (view[key] === undefined || view[key] === null) delete view[key];
  return view as MessageView;
}
