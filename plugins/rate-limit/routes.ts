import { HttpError, inject, injectable, type ApiRequest, type RouteController, type RouteDefinition } from '../../core/index.js';
import { Senders } from '../whatsapp/public.js';
import { limitChangesSchema, pauseBodySchema, senderParamsSchema, senderViewSchema } from './schemas.js';
import { RateAnnouncer } from './services/rate-announcer.js';
import { RateLimiter } from './services/rate-limiter.js';
import { SenderLimits, type LimitChanges } from './services/sender-limits.js';

const page = { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: { type: 'string', pattern: '^\\d{1,32}$' } } as const;
const tags = ['rate-limits'];

/** The Rate limiting routes of API.md: usage per sender number, limits, pause, resume, reset. */
@injectable()
export class RateLimitRoutes implements RouteController {
  constructor(
    @inject(RateLimiter) private readonly limiter: RateLimiter,
    @inject(SenderLimits) private readonly limits: SenderLimits,
    @inject(RateAnnouncer) private readonly announcer: RateAnnouncer,
    @inject(Senders) private readonly senders: Senders,
  ) {}

  routes(): RouteDefinition[] {
    const view = { 200: { description: 'The sender\'s limits and usage', schema: senderViewSchema } };
    return [
      {
        method: 'get', path: '/api/rate-limits', summary: 'Usage and limits of every sender number', tags, permission: 'rate-limits:read',
        query: { type: 'object', additionalProperties: false, properties: page },
        responses: { 200: { description: 'A page of senders, by phone number id', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: senderViewSchema }, nextCursor: { type: 'string' } } } } },
        handler: async (req) => {
          const { limit, cursor } = req.query as { limit: number; cursor?: string };
          const ids = this.known().filter((id) => !cursor || id > cursor).slice(0, limit);
          const items = await Promise.all(ids.map((id) => this.view(id)));
          const last = ids.at(-1);
          return { body: { items, ...(ids.length === limit && last ? { nextCursor: last } : {}) } };
        },
      },
      {
        method: 'get', path: '/api/rate-limits/:phoneNumberId', summary: 'Usage and limits of one sender number', tags, permission: 'rate-limits:read',
        params: senderParamsSchema, responses: view,
        handler: async (req) => ({ body: await this.view(this.sender(req)) }),
      },
      {
        method: 'put', path: '/api/rate-limits/:phoneNumberId', summary: 'Set tier, hourly and daily caps, per-second throughput and warning threshold', tags, permission: 'rate-limits:write',
        params: senderParamsSchema, body: limitChangesSchema, responses: view,
        handler: async (req) => {
          const sender = this.sender(req);
          await this.limits.change(sender, req.body as LimitChanges);
          this.announcer.changed(sender, 'updated', req.principal);
          return { body: await this.view(sender) };
        },
      },
      {
        method: 'post', path: '/api/rate-limits/:phoneNumberId/pause', summary: 'Pause sending: sends wait (deferred) until resumed', tags, permission: 'rate-limits:write',
        params: senderParamsSchema, body: pauseBodySchema, responses: view,
        handler: async (req) => {
          const sender = this.sender(req);
          const { until } = req.body as { until?: string };
          if (until && Date.parse(until) <= Date.now()) throw new HttpError(422, 'RATE_PAUSE_IN_PAST', `A pause must end in the future (got ${until})`);
          await this.limiter.pause(sender, until ? new Date(until) : undefined);
          this.announcer.changed(sender, 'paused', req.principal);
          return { body: await this.view(sender) };
        },
      },
      {
        method: 'post', path: '/api/rate-limits/:phoneNumberId/resume', summary: 'Resume a paused sender; waiting sends go at their next check', tags, permission: 'rate-limits:write',
        params: senderParamsSchema, responses: view,
        handler: async (req) => {
          const sender = this.sender(req);
          await this.limiter.resume(sender);
          this.announcer.changed(sender, 'resumed', req.principal);
          return { body: await this.view(sender) };
        },
      },
      {
        method: 'post', path: '/api/rate-limits/:phoneNumberId/reset', summary: 'Reset the counters, backoffs and the portfolio\'s unique recipients', tags, permission: 'rate-limits:write',
        params: senderParamsSchema, responses: view,
        handler: async (req) => {
          const sender = this.sender(req);
          await this.limiter.reset(sender);
          this.announcer.changed(sender, 'reset', req.principal);
          return { body: await this.view(sender) };
        },
      },
    ];
  }

  /** Every sender number the WhatsApp plugin or this plugin's config knows, sorted. */
  private known(): string[] {
    return [...new Set([...this.senders.list().map((s) => s.phoneNumberId), ...this.limits.configuredSenders()])].sort();
  }

  private sender(req: ApiRequest): string {
    const id = (req.params as { phoneNumberId: string }).phoneNumberId;
    if (!this.known().includes(id)) throw new HttpError(404, 'RATE_SENDER_UNKNOWN', `No sender number with phone number id ${id} is configured`);
    return id;
  }

  private async view(sender: string): Promise<Record<string, unknown>> {
    const now = Date.now();
    const state = await this.limiter.state(sender, now);
    const { tier, messagingLimit, ...limits } = state.limits;
    const ends = this.limits.windowEnds(now);
    return {
      phoneNumberId: sender, portfolio: this.limits.portfolioOf(sender), tier, messagingLimit, paused: state.paused,
      pausedUntil: state.pausedUntil?.toISOString() ?? null, backoffUntil: state.backoffUntil?.toISOString() ?? null,
      limits, usage: state.usage, windows: { hourEndsAt: new Date(ends.hour).toISOString(), dayEndsAt: new Date(ends.day).toISOString() },
    };
  }
}
