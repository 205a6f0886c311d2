import type { Model } from 'mongoose';
import { commonSchemas, HttpError, inject, injectable, type ApiRequest, type JsonSchema, type RouteController, type RouteDefinition } from '../../core/index.js';
import { AnalyticsEventModel, type AnalyticsEvent } from './models/analytics-event.js';
import {
  consentResultSchema, deliveryRatesResultSchema, eventTypeSchema, eventViewSchema, filterProperties, funnelResultSchema, ingestBodySchema, ingestResultSchema,
  intervalProperty, messagesResultSchema, overviewResultSchema, periodQueryProperties, realtimeSnapshotSchema, templatesResultSchema, workflowsResultSchema,
  type FilterName, type IngestBody,
} from './schemas.js';
import { EventRecorder } from './services/event-recorder.js';
import { Figures } from './services/figures.js';
import { RecentActivity } from './services/recent-activity.js';
import { exactDayBoundaries, type Interval, type Period } from './services/rollup-reader.js';
import { boundary, DAY_MS, floorToHour, HOUR_MS, instant, timeZone } from './services/time-zones.js';

interface PeriodQuery { from?: string; to?: string; tz: string; interval?: Interval }

/** Longest period per request: hour series are capped so an answer stays a few hundred points. */
const MAX_DAYS = { hour: 31, day: 400, total: 3_660 } as const;

const errors = { 400: { description: 'Bad input', schema: commonSchemas.errorEnvelope }, 403: { description: 'Needs analytics:read', schema: commonSchemas.errorEnvelope } };

function period(query: PeriodQuery, kind: Interval | 'total'): Period {
  const zone = timeZone(query.tz);
  const to = query.to ? boundary(query.to, 'to', zone) : floorToHour(Date.now()) + HOUR_MS;
  const from = query.from ? boundary(query.from, 'from', zone) : to - 7 * DAY_MS;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    throw new HttpError(400, 'ANALYTICS_PERIOD_INVALID', '`from` must be before `to` (both rounded down to the hour)', { from: query.from, to: query.to });
  }
  if (to - from > MAX_DAYS[kind] * DAY_MS) {
    throw new HttpError(400, 'ANALYTICS_PERIOD_TOO_LONG', `At most ${MAX_DAYS[kind]} days per request${kind === 'hour' ? ' with interval=hour' : ''}`, { maxDays: MAX_DAYS[kind] });
  }
  return { from, to, zone };
}

const periodView = (p: Period) => ({ from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString(), timeZone: p.zone, exactDayBoundaries: exactDayBoundaries(p) });

function filterOf(query: Record<string, unknown>, names: readonly FilterName[]): Record<string, string> {
  return Object.fromEntries(names.filter((name) => typeof query[name] === 'string').map((name) => [name, query[name] as string]));
}

function figuresQuery(filters: readonly FilterName[], series: boolean): JsonSchema {
  return {
    type: 'object', additionalProperties: false,
    properties: { ...periodQueryProperties, ...(series ? intervalProperty : {}), ...Object.fromEntries(filters.map((name) => [name, filterProperties[name]])) },
  };
}

/** Raw-event page cursor: the last event's time and id, so a page starts strictly after it. */
const encodeCursor = (event: { occurredAt: Date; _id: string }) => Buffer.from(JSON.stringify([event.occurredAt.getTime(), event._id])).toString('base64url');
function decodeCursor(cursor: string): { at: number; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'number' && typeof id === 'string') return { at, id };
  } catch { /* reported below */ }
  throw new HttpError(400, 'ANALYTICS_CURSOR_INVALID', 'The cursor is not one this API returned');
}

const toEventView = (e: AnalyticsEvent) => ({
  id: e._id, type: e.type, occurredAt: e.occurredAt.toISOString(), dimensions: e.dimensions ?? {},
  ...(e.value !== undefined && e.value !== null ? { value: e.value } : {}), source: e.source, receivedAt: e.receivedAt.toISOString(),
});

@injectable()
export class AnalyticsRoutes implements RouteController {
  constructor(
    @inject(EventRecorder) private readonly recorder: EventRecorder,
    @inject(Figures) private readonly figures: Figures,
    @inject(RecentActivity) private readonly recent: RecentActivity,
    @inject(AnalyticsEventModel.token) private readonly events: Model<AnalyticsEvent>,
  ) {}

  routes(): RouteDefinition[] {
    const MESSAGE_FILTERS: FilterName[] = ['phoneNumberId', 'templateName', 'campaignId', 'category'];
    const figure = (path: string, summary: string, filters: FilterName[], series: boolean, schema: JsonSchema, compute: (p: Period, q: PeriodQuery, f: Record<string, string>) => Promise<object>): RouteDefinition => ({
      method: 'get', path, summary, tags: ['analytics'], permission: 'analytics:read', query: figuresQuery(filters, series),
      responses: { 200: { description: summary, schema }, ...errors },
      handler: async (req: ApiRequest) => {
        const query = req.query as PeriodQuery & Record<string, unknown>;
        const p = period(query, series ? query.interval ?? 'day' : 'total');
        return { body: { period: periodView(p), ...(series ? { interval: query.interval ?? 'day' } : {}), ...(await compute(p, query, filterOf(query, filters))) } };
      },
    });
    return [
      {
        method: 'post', path: '/api/analytics/events', summary: 'Ingest a batch of events (idempotent by event id)', tags: ['analytics'], permission: 'analytics:ingest',
        body: ingestBodySchema, bodyLimit: '1mb',
        responses: { 200: { description: 'One outcome per event, in order', schema: ingestResultSchema }, ...errors, 403: { description: 'Needs analytics:ingest', schema: commonSchemas.errorEnvelope } },
        handler: async (req) => {
          const { events } = req.body as IngestBody;
          const results = await this.recorder.record(events.map((e) => ({
            id: e.id, type: e.type, occurredAt: new Date(e.occurredAt), dimensions: (e.dimensions ?? {}) as Record<string, string>, ...(e.value !== undefined ? { value: e.value } : {}),
          })), 'api');
          const tally = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
          return { body: { accepted: tally('accepted'), duplicates: tally('duplicate'), rejected: tally('rejected'), results } };
        },
      },
      {
        method: 'get', path: '/api/analytics/events', summary: 'Raw events, newest first', tags: ['analytics'], permission: 'analytics:read',
        query: {
          type: 'object', additionalProperties: false,
          properties: {
            type: eventTypeSchema, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time', description: 'exclusive' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, cursor: { type: 'string', minLength: 1, maxLength: 500 },
          },
        },
        responses: {
          200: { description: 'A page of events', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: eventViewSchema }, nextCursor: { type: 'string' } } } },
          ...errors,
        },
        handler: async (req) => {
          const query = req.query as { type?: string; from?: string; to?: string; limit: number; cursor?: string };
          const filter: Record<string, unknown> = {};
          if (query.type) filter.type = query.type;
          if (query.from || query.to) filter.occurredAt = { ...(query.from ? { $gte: new Date(instant(query.from, 'from')) } : {}), ...(query.to ? { $lt: new Date(instant(query.to, 'to')) } : {}) };
          if (query.cursor) {
            const after = decodeCursor(query.cursor);
            filter.$or = [{ occurredAt: { $lt: new Date(after.at) } }, { occurredAt: new Date(after.at), _id: { $lt: after.id } }];
          }
          const page = await this.events.find(filter).sort({ occurredAt: -1, _id: -1 }).limit(query.limit).lean<AnalyticsEvent[]>();
          const last = page.at(-1);
          return { body: { items: page.map(toEventView), ...(page.length === query.limit && last ? { nextCursor: encodeCursor(last) } : {}) } };
        },
      },
      figure('/api/analytics/overview', 'Headline figures for a period', [], false, overviewResultSchema, (p) => this.figures.overview(p)),
      figure('/api/analytics/messages', 'Messages by status over time', MESSAGE_FILTERS, true, messagesResultSchema, (p, q, f) => this.figures.messages(p, q.interval ?? 'day', f)),
      figure('/api/analytics/delivery-rates', 'Delivery, read and failure rates over time', MESSAGE_FILTERS, true, deliveryRatesResultSchema, (p, q, f) => this.figures.deliveryRates(p, q.interval ?? 'day', f)),
      figure('/api/analytics/consent', 'Opt-ins and opt-outs over time, by source and keyword', ['source', 'keyword'], true, consentResultSchema, (p, q, f) => this.figures.consent(p, q.interval ?? 'day', f)),
      figure('/api/analytics/workflows', 'Executions per workflow: count, failures, average duration', ['workflowId'], false, workflowsResultSchema, (p, _q, f) => this.figures.workflows(p, f)),
      figure('/api/analytics/templates', 'Sent, delivered, read, failed and replied per template', MESSAGE_FILTERS, false, templatesResultSchema, (p, _q, f) => this.figures.templates(p, f)),
      figure('/api/analytics/funnel', 'Contact → message → reply → sale', ['campaignId', 'templateName', 'phoneNumberId', 'agentId'], false, funnelResultSchema, (p, _q, f) => this.figures.funnel(p, f)),
      {
        method: 'get', path: '/api/analytics/realtime', summary: 'Counts by type for each of the last minutes (also pushed on the analytics topic)', tags: ['analytics'], permission: 'analytics:read',
        query: { type: 'object', additionalProperties: false, properties: { minutes: { type: 'integer', minimum: 1, maximum: 60, default: 5 } } },
        responses: { 200: { description: 'The last minutes, oldest first', schema: realtimeSnapshotSchema }, ...errors },
        handler: async (req) => ({ body: await this.recent.snapshot((req.query as { minutes: number }).minutes) }),
      },
    ];
  }
}
