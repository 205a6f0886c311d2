import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { inject, injectable, HttpError, type RouteController, type RouteDefinition } from '../../core/index.js';
import { WebhookPaths } from './webhook-paths.js';

/** Constant-time check of `sha256=<hex>` against the HMAC of the raw body. */
export function signatureMatches(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

@injectable()
export class WebhookRoutes implements RouteController {
  constructor(@inject(WebhookPaths) private readonly paths: WebhookPaths) {}

  routes(): RouteDefinition[] {
    return [{
      method: 'post', path: '/hooks/:path', summary: 'Start the workflow listening on this path (http.webhook trigger)', permission: 'public', tags: ['http'],
      rawBody: true, bodyLimit: '1mb',
      params: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' } } },
      body: {},
      responses: { 202: { description: 'Accepted', schema: { type: 'object', required: ['eventId', 'duplicate'], properties: { eventId: { type: 'string' }, duplicate: { type: 'boolean' } } } } },
      handler: async (req) => {
        const binding = this.paths.get(req.params.path as string);
        if (!binding) throw new HttpError(404, 'WEBHOOK_NOT_FOUND', `No active workflow listens on /hooks/${req.params.path}`);
        if (binding.secretEnv) {
          const secret = process.env[binding.secretEnv];
          const header = req.headers['x-signature-256'];
          if (!secret || !signatureMatches(secret, req.rawBody ?? Buffer.alloc(0), typeof header === 'string' ? header : undefined)) {
            throw new HttpError(401, 'WEBHOOK_SIGNATURE_INVALID', 'X-Signature-256 is missing or does not match the body');
          }
        }
        const idempotencyKey = req.headers['idempotency-key'];
        const sourceId = typeof idempotencyKey === 'string' && /^[\w.:-]{8,128}$/.test(idempotencyKey) ? idempotencyKey : randomUUID();
        const submitted = await binding.emit({ sourceId, payload: { path: req.params.path, body: req.body ?? null, query: req.query, receivedAt: new Date().toISOString() } });
        return { status: 202, body: submitted };
      },
    }];
  }
}
