/** Messaging routes (API.md): send, bulk, schedule, list, get, retry, cancel, conversation. */
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { commonSchemas, HttpError, inject, injectable, notFound, type ApiRequest, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { Senders } from '../graph/senders.js';
import { MessageModel, type Message } from '../models/message.js';
import { recipientSchema, sendInputSchema, templateContentSchema, type SendInput } from '../schemas.js';
import { Campaigns } from '../services/campaigns.js';
import { ContactDirectory } from '../services/contact-directory.js';
import { Messenger } from '../services/messenger.js';
import { Outbox, type SendOutcome } from '../services/outbox.js';
import { messageViewSchema, toMessageView } from '../views.js';

const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: commonSchemas.objectId } } as const;
const idempotencyKey = { type: 'string', minLength: 8, maxLength: 200, description: 'Repeat a request with the same key and nothing is sent twice' } as const;
const page = { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: commonSchemas.objectId } as const;
const messagePage = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: messageViewSchema }, nextCursor: { type: 'string' } } } as const;
const decisionSchema = { type: 'object', required: ['policy', 'decision'], properties: { policy: { type: 'string' }, decision: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' }, until: { type: 'string' } } } as const;
const sendBody = { ...sendInputSchema, properties: { ...sendInputSchema.properties, idempotencyKey } } as const;
const campaignSchema = {
  type: 'object', required: ['id', 'state', 'recipients', 'counts', 'done'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, state: { type: 'string' }, recipients: { type: 'integer' }, counts: { type: 'object', additionalProperties: { type: 'integer' } }, done: { type: 'integer' } },
} as const;

const digits = (value: string) => value.replace(/\D/g, '');
const pageOf = (docs: Message[], limit: number) => ({
  items: docs.map(toMessageView),
  ...(docs.length === limit && docs.at(-1) ? { nextCursor: String(docs.at(-1)?._id) } : {}),
});

@injectable()
export class MessagingRoutes implements RouteController {
  constructor(
    @inject(Outbox) private readonly outbox: Outbox,
    @inject(Messenger) private readonly messenger: Messenger,
    @inject(Campaigns) private readonly campaigns: Campaigns,
    @inject(ContactDirectory) private readonly contacts: ContactDirectory,
    @inject(Senders) private readonly senders: Senders,
    @inject(MessageModel.token) private readonly messages: Model<Message>,
  ) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'post', path: '/api/messages', summary: 'Send one text, interactive or template message after the send policies', tags: ['Messaging'], permission: 'messages:send',
        body: sendBody,
        responses: {
          201: { description: 'Sent (or refused by Meta: see status and error)', schema: messageViewSchema },
          200: { description: 'Already sent with this idempotency key: nothing was sent again', schema: messageViewSchema },
          202: { description: 'Deferred by a policy: sent when it allows', schema: { type: 'object', required: ['message', 'deferredBy'], properties: { message: messageViewSchema, deferredBy: decisionSchema } } },
          422: { description: 'Denied by a policy (details name it) or no such sender' },
        },
        handler: async (req) => {
          const { idempotencyKey: key, ...input } = req.body as SendInput & { idempotencyKey?: string };
          return answer(await this.outbox.send(input, { idempotencyKey: key ?? `api:${randomUUID()}`, origin: 'api', createdBy: req.principal?.id }));
        },
      },
      {
        method: 'post', path: '/api/messages/bulk', summary: 'Send one message to many recipients (a campaign); progress on the messages topic', tags: ['Messaging'], permission: 'messages:bulk',
        body: {
          type: 'object', additionalProperties: false, required: ['recipients'],
          properties: {
            name: { type: 'string', maxLength: 200 }, from: { type: 'string', pattern: '^\\d+$' },
            text: { type: 'string', minLength: 1, maxLength: 4096 }, template: templateContentSchema,
            recipients: { type: 'array', items: recipientSchema, minItems: 1, maxItems: 10000 },
          },
          oneOf: [{ required: ['text'], not: { required: ['template'] } }, { required: ['template'], not: { required: ['text'] } }],
        },
        responses: { 202: { description: 'Campaign stored; sending in the background', schema: { type: 'object', required: ['campaign', 'duplicates'], properties: { campaign: campaignSchema, duplicates: { type: 'array', items: { type: 'string' } } } } } },
        handler: async (req) => {
          const { campaign, duplicates } = await this.campaigns.create(req.body as Parameters<Campaigns['create']>[0], req.principal?.id);
          return { status: 202, body: { campaign: await this.campaigns.progress(String(campaign._id)), duplicates } };
        },
      },
      {
        method: 'get', path: '/api/messages/bulk/:id', summary: 'A campaign\'s progress and per-recipient outcomes', tags: ['Messaging'], permission: 'messages:read',
        params: idParams,
        query: { type: 'object', additionalProperties: false, properties: page },
        responses: { 200: { description: 'The campaign', schema: { type: 'object', required: ['campaign', 'recipients'], properties: { campaign: campaignSchema, recipients: { type: 'array', items: messageViewSchema }, nextCursor: { type: 'string' } } } } },
        handler: async (req) => {
          const { id } = req.params as { id: string };
          const { limit, cursor } = req.query as { limit: number; cursor?: string };
          const campaign = await this.campaigns.progress(id);
          if (!campaign) throw notFound('Campaign', id);
          const { items, nextCursor } = pageOfAscending(await this.campaigns.recipients(id, limit, cursor), limit);
          return { body: { campaign, recipients: items, ...(nextCursor ? { nextCursor } : {}) } };
        },
      },
      {
        method: 'post', path: '/api/messages/schedule', summary: 'Send later (the policies run at send time); cancel with DELETE', tags: ['Messaging'], permission: 'messages:send',
        body: { ...sendBody, required: ['to', 'sendAt'], properties: { ...sendBody.properties, sendAt: { type: 'string', format: 'date-time' } } },
        responses: { 202: { description: 'Scheduled', schema: messageViewSchema }, 200: { description: 'Already scheduled with this idempotency key', schema: messageViewSchema } },
        handler: async (req) => {
          const { idempotencyKey: key, sendAt, ...input } = req.body as SendInput & { idempotencyKey?: string; sendAt: string };
          const at = new Date(sendAt);
          if (at.getTime() < Date.now() - 60_000) throw new HttpError(400, 'WHATSAPP_SEND_AT_PAST', `sendAt ${sendAt} is in the past`);
          this.senders.resolve(input.from);
          const { message, created } = await this.outbox.schedule(input, at, { idempotencyKey: key ?? `api:${randomUUID()}`, createdBy: req.principal?.id });
          return { status: created ? 202 : 200, body: toMessageView(message) };
        },
      },
      {
        method: 'get', path: '/api/messages', summary: 'List messages, newest first', tags: ['Messaging'], permission: 'messages:read',
        query: {
          type: 'object', additionalProperties: false,
          properties: {
            ...page, phone: { type: 'string', pattern: '^\\+?[0-9 ()-]{6,32}$' }, direction: { enum: ['inbound', 'outbound'] }, status: { type: 'string', pattern: '^[a-z]+$' },
            template: { type: 'string', pattern: '^[a-z0-9_]{1,512}$' }, campaignId: commonSchemas.objectId,
            from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
          },
        },
        responses: { 200: { description: 'A page of messages', schema: messagePage } },
        handler: async (req) => {
          const q = req.query as { limit: number; cursor?: string; phone?: string; direction?: Message['direction']; status?: Message['status']; template?: string; campaignId?: string; from?: string; to?: string };
          const createdAt = { ...(q.from ? { $gte: new Date(q.from) } : {}), ...(q.to ? { $lt: new Date(q.to) } : {}) };
          const docs = await this.messages.find({
            ...(q.phone ? { phone: digits(q.phone) } : {}), ...(q.direction ? { direction: q.direction } : {}), ...(q.status ? { status: q.status } : {}),
            ...(q.template ? { 'template.name': q.template } : {}), ...(q.campaignId ? { campaignId: q.campaignId } : {}),
            ...(Object.keys(createdAt).length ? { createdAt } : {}), ...(q.cursor ? { _id: { $lt: q.cursor } } : {}),
          }).sort({ _id: -1 }).limit(q.limit).lean<Message[]>();
          return { body: pageOf(docs, q.limit) };
        },
      },
      {
        method: 'get', path: '/api/messages/:id', summary: 'One message with its status history', tags: ['Messaging'], permission: 'messages:read',
        params: idParams,
        responses: { 200: { description: 'The message', schema: messageViewSchema } },
        handler: async (req) => ({ body: toMessageView(await this.find(req)) }),
      },
      {
        method: 'post', path: '/api/messages/:id/retry', summary: 'Send a failed (or unanswered) message again, after the policies', tags: ['Messaging'], permission: 'messages:send',
        params: idParams,
        responses: { 200: { description: 'The message after the new attempt', schema: messageViewSchema }, 409: { description: 'Not failed or unknown' } },
        handler: async (req) => {
          const message = await this.find(req);
          const requeued = await this.messenger.requeue(message._id);
          if (!requeued) throw new HttpError(409, 'WHATSAPP_NOT_RETRYABLE', `Message is ${message.status}; only failed or unknown outbound messages can be retried`, { status: message.status });
          return { body: toMessageView(await this.outbox.sendStored(message._id) ?? requeued) };
        },
      },
      {
        method: 'delete', path: '/api/messages/:id', summary: 'Cancel a queued or scheduled message', tags: ['Messaging'], permission: 'messages:send',
        params: idParams,
        responses: { 200: { description: 'Cancelled', schema: messageViewSchema }, 409: { description: 'Already sent or finished' } },
        handler: async (req) => ({ body: toMessageView(await this.outbox.cancel((req.params as { id: string }).id)) }),
      },
      {
        method: 'get', path: '/api/conversations/:phone', summary: 'The thread with a contact and its 24-hour window', tags: ['Messaging'], permission: 'messages:read',
        params: { type: 'object', additionalProperties: false, required: ['phone'], properties: { phone: { type: 'string', pattern: '^\\+?[0-9]{6,20}$' } } },
        query: { type: 'object', additionalProperties: false, properties: { ...page, sender: { type: 'string', pattern: '^\\d+$' } } },
        responses: {
          200: {
            description: 'Messages newest first, with the window state for the sender',
            schema: {
              type: 'object', required: ['phone', 'window', 'items'],
              properties: {
                phone: { type: 'string' },
                contact: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, userId: { type: 'string' }, marketing: { type: 'object' } } },
                window: { type: 'object', required: ['phoneNumberId', 'open', 'lastInboundAt', 'closesAt'], properties: { phoneNumberId: { type: 'string' }, open: { type: 'boolean' }, lastInboundAt: { type: ['string', 'null'] }, closesAt: { type: ['string', 'null'] } } },
                items: { type: 'array', items: messageViewSchema }, nextCursor: { type: 'string' },
              },
            },
          },
        },
        handler: async (req) => {
          const phone = digits((req.params as { phone: string }).phone);
          const q = req.query as { limit: number; cursor?: string; sender?: string };
          const sender = q.sender ?? this.senders.list()[0]?.phoneNumberId ?? '';
          const contact = await this.contacts.find(phone);
          const docs = await this.messages.find({
            $or: [{ phone }, ...(contact ? [{ contactId: contact._id }] : [])], ...(q.sender ? { phoneNumberId: q.sender } : {}), ...(q.cursor ? { _id: { $lt: q.cursor } } : {}),
          }).sort({ _id: -1 }).limit(q.limit).lean<Message[]>();
          return {
            body: {
              phone,
              ...(contact ? {
                contact: {
                  id: contact._id, ...(contact.profileName ? { name: contact.profileName } : {}), ...(contact.userId ? { userId: contact.userId } : {}),
                  ...(contact.marketing ? { marketing: { state: contact.marketing.state, at: new Date(contact.marketing.at).toISOString(), source: contact.marketing.source } } : {}),
                },
              } : {}),
              window: { phoneNumberId: sender, ...this.contacts.window(contact, sender) },
              ...pageOf(docs, q.limit),
            },
          };
        },
      },
    ];
  }

  private async find(req: ApiRequest): Promise<Message> {
    const { id } = req.params as { id: string };
    const message = await this.messenger.get(id);
    if (!message) throw notFound('Message', id);
    return message;
  }
}

function pageOfAscending(docs: Message[], limit: number): { items: ReturnType<typeof toMessageView>[]; nextCursor?: string } {
  return { items: docs.map(toMessageView), ...(docs.length === limit && docs.at(-1) ? { nextCursor: String(docs.at(-1)?._id) } : {}) };
}

function answer(outcome: SendOutcome): { status: number; body: unknown } {
  const view = toMessageView(outcome.message);
  switch (outcome.kind) {
    case 'existing': return { status: 200, body: view };
    case 'dispatched': return { status: 201, body: view };
    case 'deferred': return { status: 202, body: { message: view, deferredBy: { ...outcome.decision, ...(outcome.decision.until ? { until: outcome.decision.until.toISOString() } : {}) } } };
    case 'denied':
      throw new HttpError(422, 'WHATSAPP_SEND_DENIED', `Policy ${outcome.decision.policy} denied the send: ${outcome.decision.reason}`, {
        policy: outcome.decision.policy, code: outcome.decision.code, reason: outcome.decision.reason, messageId: view.id,
      });
  }
}
