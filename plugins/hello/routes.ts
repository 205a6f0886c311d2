import { randomUUID } from 'node:crypto';
import { inject, injectable, HttpError, type RouteController, type RouteDefinition } from '../../core/index.js';
import { Greeter } from './greeter.js';
import { greetingSchema } from './schemas.js';

@injectable()
export class GreetingRoutes implements RouteController {
  constructor(@inject(Greeter) private readonly greeter: Greeter) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'post', path: '/api/hello/greetings', summary: 'Greet someone', permission: 'greetings:write',
        body: {
          type: 'object', additionalProperties: false, required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, idempotencyKey: { type: 'string', minLength: 8, maxLength: 128 } },
        },
        responses: { 201: { description: 'Created', schema: greetingSchema }, 200: { description: 'Already created with this idempotency key', schema: greetingSchema } },
        handler: async (req) => {
          const body = req.body as { name: string; idempotencyKey?: string };
          if (this.greeter.isBlocked(body.name)) throw new HttpError(422, 'HELLO_NAME_BLOCKED', `${body.name} is on the block list`);
          const { greeting, created } = await this.greeter.greet(body.name, body.idempotencyKey ?? `api:${randomUUID()}`);
          return { status: created ? 201 : 200, body: greeting };
        },
      },
      {
        method: 'get', path: '/api/hello/greetings', summary: 'List greetings, newest first', permission: 'greetings:read',
        query: {
          type: 'object', additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: { type: 'string', pattern: '^[a-f0-9]{24}$' } },
        },
        responses: {
          200: {
            description: 'A page of greetings',
            schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: greetingSchema }, nextCursor: { type: 'string' } } },
          },
        },
        handler: async (req) => {
          const query = req.query as { limit: number; cursor?: string };
          const items = await this.greeter.list(query.limit, query.cursor);
          const last = items.at(-1);
          return { body: { items, ...(items.length === query.limit && last ? { nextCursor: last.id } : {}) } };
        },
      },
    ];
  }
}
