/** Delivery tracking routes (API.md): timeline, report, failed list, retry-failed, stats. */
import { commonSchemas, inject, injectable, notFound, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { DeliveryReports, type DeliveryFilter } from '../services/delivery-reports.js';
import { Messenger } from '../services/messenger.js';
import { messageViewSchema, providerErrorSchema, toMessageView } from '../views.js';

const filterProperties = {
  from: { type: 'string', format: 'date-time', description: 'Messages created at or after' },
  to: { type: 'string', format: 'date-time', description: 'Messages created before' },
  phoneNumberId: { type: 'string', pattern: '^\\d+$', description: 'Sender' },
  template: { type: 'string', pattern: '^[a-z0-9_]{1,512}$' },
} as const;
const latency = { type: 'object', required: ['count', 'p50', 'p95'], properties: { count: { type: 'integer' }, p50: { type: ['number', 'null'] }, p95: { type: ['number', 'null'] } } } as const;
const counts = { type: 'object', additionalProperties: { type: 'integer' } } as const;

@injectable()
export class DeliveryRoutes implements RouteController {
  constructor(@inject(DeliveryReports) private readonly reports: DeliveryReports, @inject(Messenger) private readonly messenger: Messenger) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/delivery/report', summary: 'Counts and rates by status over a period, optionally by sender or template', tags: ['Delivery'], permission: 'delivery:read',
        query: { type: 'object', additionalProperties: false, properties: { ...filterProperties, groupBy: { enum: ['none', 'sender', 'template'], default: 'none' } } },
        responses: {
          200: {
            description: 'The report',
            schema: {
              type: 'object', required: ['total', 'counts', 'rates', 'groups'],
              properties: {
                total: { type: 'integer' }, counts,
                rates: { type: 'object', required: ['delivered', 'read', 'failed'], properties: { delivered: { type: 'number' }, read: { type: 'number' }, failed: { type: 'number' } } },
                groups: { type: 'array', items: { type: 'object', required: ['key', 'total', 'counts'], properties: { key: { type: 'string' }, total: { type: 'integer' }, counts } } },
              },
            },
          },
        },
        handler: async (req) => {
          const { groupBy, ...filter } = req.query as unknown as DeliveryFilter & { groupBy: 'none' | 'sender' | 'template' };
          return { body: await this.reports.report(filter, groupBy) };
        },
      },
      {
        method: 'get', path: '/api/delivery/failed', summary: 'Failed messages with their error codes and whether a retry may succeed', tags: ['Delivery'], permission: 'delivery:read',
        query: {
          type: 'object', additionalProperties: false,
          properties: { ...filterProperties, retryable: { type: 'boolean' }, code: { type: 'integer' }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: commonSchemas.objectId },
        },
        responses: {
          200: {
            description: 'A page of failures, newest first',
            schema: {
              type: 'object', required: ['items'],
              properties: {
                items: { type: 'array', items: { type: 'object', required: ['id', 'status', 'attempts'], properties: { id: { type: 'string' }, phone: { type: 'string' }, phoneNumberId: { type: 'string' }, template: { type: 'string' }, status: { type: 'string' }, attempts: { type: 'integer' }, error: providerErrorSchema, failedAt: { type: 'string' } } } },
                nextCursor: { type: 'string' },
              },
            },
          },
        },
        handler: async (req) => {
          const { limit, cursor, ...filter } = req.query as unknown as DeliveryFilter & { retryable?: boolean; code?: number; limit: number; cursor?: string };
          const docs = await this.reports.failed(filter, limit, cursor);
          const items = docs.map((m) => ({
            id: String(m._id), status: m.status, attempts: m.attempts ?? 0, phoneNumberId: m.phoneNumberId,
            ...(m.phone ? { phone: m.phone } : {}), ...(m.template ? { template: m.template.name } : {}), ...(m.error ? { error: m.error } : {}),
            ...(m.failedAt ? { failedAt: new Date(m.failedAt).toISOString() } : {}),
          }));
          return { body: { items, ...(docs.length === limit && items.at(-1) ? { nextCursor: items.at(-1)?.id } : {}) } };
        },
      },
      {
        method: 'post', path: '/api/delivery/retry-failed', summary: 'Schedule another attempt for the retryable failures of a filter (capped exponential backoff)', tags: ['Delivery'], permission: 'delivery:retry',
        body: { type: 'object', additionalProperties: false, properties: { ...filterProperties, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        responses: {
          200: {
            description: 'What was scheduled and what was skipped',
            schema: {
              type: 'object', required: ['scheduled', 'skipped'],
              properties: {
                scheduled: { type: 'array', items: { type: 'object', required: ['id', 'retryAt'], properties: { id: { type: 'string' }, retryAt: { type: 'string' } } } },
                skipped: { type: 'object', required: ['notRetryable', 'attemptsExhausted'], properties: { notRetryable: { type: 'integer' }, attemptsExhausted: { type: 'integer' } } },
              },
            },
          },
        },
        handler: async (req) => {
          const { limit, ...filter } = (req.body ?? {}) as DeliveryFilter & { limit?: number };
          return { body: await this.reports.retryFailed(filter, limit ?? 100) };
        },
      },
      {
        method: 'get', path: '/api/delivery/stats', summary: 'Latency sent→delivered→read (p50/p95, ms) and failure reasons', tags: ['Delivery'], permission: 'delivery:read',
        query: { type: 'object', additionalProperties: false, properties: filterProperties },
        responses: {
          200: {
            description: 'The statistics',
            schema: {
              type: 'object', required: ['latencyMs', 'failureReasons'],
              properties: {
                latencyMs: { type: 'object', required: ['sentToDelivered', 'deliveredToRead', 'sentToRead'], properties: { sentToDelivered: latency, deliveredToRead: latency, sentToRead: latency } },
                failureReasons: { type: 'array', items: { type: 'object', required: ['code', 'reason', 'count'], properties: { code: { type: 'integer' }, reason: { type: 'string' }, count: { type: 'integer' } } } },
              },
            },
          },
        },
        handler: async (req) => ({ body: await this.reports.stats(req.query as DeliveryFilter) }),
      },
      {
        method: 'get', path: '/api/delivery/:messageId', summary: 'Status timeline sent → delivered → read / failed, with provider errors', tags: ['Delivery'], permission: 'delivery:read',
        params: { type: 'object', additionalProperties: false, required: ['messageId'], properties: { messageId: commonSchemas.objectId } },
        responses: {
          200: {
            description: 'The timeline',
            schema: { type: 'object', required: ['messageId', 'status', 'timeline'], properties: { messageId: { type: 'string' }, providerMessageId: { type: 'string' }, status: { type: 'string' }, timeline: messageViewSchema.properties.timeline, error: providerErrorSchema } },
          },
        },
        handler: async (req) => {
          const { messageId } = req.params as { messageId: string };
          const message = await this.messenger.get(messageId);
          if (!message) throw notFound('Message', messageId);
          const view = toMessageView(message);
          return { body: { messageId: view.id, status: view.status, timeline: view.timeline, ...(view.providerMessageId ? { providerMessageId: view.providerMessageId } : {}), ...(view.error ? { error: view.error } : {}) } };
        },
      },
    ];
  }
}
