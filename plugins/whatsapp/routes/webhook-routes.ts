/**
 * `GET /webhooks/whatsapp` answers Meta's verification handshake; `POST` takes signed updates.
 * The signature is checked over the raw bytes before anything is stored; each update is stored
 * on its own and the POST answered; processing follows (reference §1).
 */
import { timingSafeEqual } from 'node:crypto';
import { HttpError, inject, injectable, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import { InboundProcessor } from '../services/inbound-processor.js';
import { MalformedWebhookError, splitWebhook } from '../webhook/envelope.js';
import { verifySignature } from '../webhook/signature.js';

const sameString = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

@injectable()
export class WebhookRoutes implements RouteController {
  constructor(
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
    @inject(InboundProcessor) private readonly inbound: InboundProcessor,
  ) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/webhooks/whatsapp', summary: 'Meta\'s webhook verification handshake', tags: ['WhatsApp'], permission: 'public',
        query: {
          // Meta may add parameters; only the three hub ones are read.
          type: 'object', additionalProperties: true, required: ['hub.mode', 'hub.verify_token', 'hub.challenge'],
          properties: { 'hub.mode': { type: 'string' }, 'hub.verify_token': { type: 'string' }, 'hub.challenge': { type: 'string', maxLength: 512 } },
        },
        responses: { 200: { description: 'The challenge, echoed verbatim', contentType: 'text/plain' }, 403: { description: 'Wrong verify token or mode' } },
        handler: async (req, res) => {
          const query = req.query as Record<string, string>;
          const expected = this.config.verifyToken;
          if (!expected || query['hub.mode'] !== 'subscribe' || !sameString(query['hub.verify_token'] as string, expected)) {
            throw new HttpError(403, 'WHATSAPP_VERIFY_TOKEN_MISMATCH', 'hub.verify_token does not match WHATSAPP_VERIFY_TOKEN (or hub.mode is not subscribe)');
          }
          res.status(200).type('text/plain').send(query['hub.challenge']);
          return undefined;
        },
      },
      {
        method: 'post', path: '/webhooks/whatsapp', summary: 'Signed WhatsApp updates: messages, statuses, preferences, template status', tags: ['WhatsApp'],
        // Accepted deliveries are stored as webhook updates and their effects audited where they happen
        // (a consent change, a send); refused ones (bad signature, not an envelope) go to the audit log.
        permission: 'public', rawBody: true, bodyLimit: '3mb', audit: 'refused',
        // Meta's envelope grows new fields over time: unknown fields are tolerated, not refused.
        body: { type: 'object', required: ['entry'], properties: { object: { type: 'string' }, entry: { type: 'array', maxItems: 1000 } } },
        responses: {
          200: { description: 'Stored', schema: { type: 'object', required: ['received', 'stored', 'duplicates'], properties: { received: { type: 'integer' }, stored: { type: 'integer' }, duplicates: { type: 'integer' } } } },
          400: { description: 'Not a WhatsApp webhook envelope' },
          401: { description: 'Missing or wrong X-Hub-Signature-256' },
        },
        handler: async (req) => {
          const secret = this.config.appSecret;
          if (!secret) throw new HttpError(503, 'WHATSAPP_WEBHOOK_NOT_CONFIGURED', 'WHATSAPP_APP_SECRET is not set, so no signature can be checked');
          if (!req.rawBody || !verifySignature(req.rawBody, req.headers['x-hub-signature-256'], secret)) {
            throw new HttpError(401, 'WHATSAPP_SIGNATURE_INVALID', 'X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the body with the app secret');
          }
          let updates;
          try {
            updates = splitWebhook(req.body);
          } catch (error) {
            if (error instanceof MalformedWebhookError) throw new HttpError(400, 'WHATSAPP_WEBHOOK_MALFORMED', `Not a WhatsApp webhook: ${error.message}`);
            throw error;
          }
          const { stored, duplicates } = await this.inbound.store(updates);
          this.inbound.enqueue(stored);
          return { status: 200, body: { received: updates.length, stored: stored.length, duplicates } };
        },
      },
    ];
  }
}
