import { inject, injectable, type RouteController, type RouteDefinition } from 'flowgate/sdk';
import { DeferralLog } from './deferral-log.js';
import { QuietHours } from './quiet-hours.js';
import { deferralSchema, quietStateSchema } from './schemas.js';

const tags = ['quiet-hours'];

@injectable()
export class QuietHoursRoutes implements RouteController {
  constructor(@inject(QuietHours) private readonly quietHours: QuietHours, @inject(DeferralLog) private readonly log: DeferralLog) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/quiet-hours/check', summary: 'Whether a phone number is in its quiet hours now, and until when', permission: 'quiet-hours:read', tags,
        query: {
          type: 'object', additionalProperties: false, required: ['phone'],
          properties: { phone: { type: 'string', pattern: '^\\+?[0-9][0-9 ()-]{5,30}$', description: 'E.164 number, country code first' } },
        },
        responses: { 200: { description: 'The contact\'s local time and quiet state', schema: quietStateSchema } },
        handler: async (req) => ({ body: this.quietHours.state((req.query as { phone: string }).phone) }),
      },
      {
        method: 'get', path: '/api/quiet-hours/deferrals', summary: 'Steps held back by quiet hours, newest first', permission: 'quiet-hours:read', tags,
        query: {
          type: 'object', additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,200}$' } },
        },
        responses: {
          200: {
            description: 'A page of deferrals',
            schema: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: deferralSchema }, nextCursor: { type: 'string' } } },
          },
        },
        handler: async (req) => {
          const query = req.query as { limit: number; cursor?: string };
          return { body: await this.log.list(query.limit, query.cursor) };
        },
      },
    ];
  }
}
