/**
 * Outbound messages. Every send is stored first under its idempotency key, then claimed
 * atomically (queued/scheduled → sending; on FerretDB under the message's lock, see
 * MessageLocks) before the Graph API is called, so a repeated call,
 * a retried workflow step or a second process never sends the same message twice. A send whose
 * answer never came is `unknown`, not resent: the status webhooks (which echo our id in
 * `biz_opaque_callback_data`) settle it.
 */
import { Types, type Model, type UpdateQuery } from 'mongoose';
import { HttpError, inject, injectable, MongoConnection, Realtime } from '../../../core/index.js';
import type { OutboundPayload } from '../graph/graph-client.js';
import { Senders } from '../graph/senders.js';
import type { Contact } from '../models/contact.js';
import { MessageModel, STATUS_RANK, type Message, type MessageStatus, type TemplateContent, type TimelineEntry } from '../models/message.js';
import { toMessageView } from '../views.js';
import { ContactDirectory } from './contact-directory.js';
import { MarketingPreferences } from './marketing-preferences.js';
import { MessageFacts } from './message-facts.js';
import { MessageKeys } from './message-keys.js';
import { MessageLocks } from './message-locks.js';
import { SendFeedback } from './send-feedback.js';

export interface OutboundRequest {
  /** Phone number (any format with country code) or a business-scoped user id (`CC.xxx`). */
  to: string;
  from?: string;
  text?: string;
  previewUrl?: boolean;
  template?: TemplateContent;
  /** Reply buttons (up to 3): sent as an interactive message with `text` as its body. */
  buttons?: Array<{ id: string; title: string }>;
  /** The wamid being answered. */
  replyTo?: string;
}

export interface StoreOptions {
  /** Id for the new message (campaigns assign them up front). */
  id?: Types.ObjectId;
  idempotencyKey: string;
  origin: Message['origin'];
  status?: 'queued' | 'scheduled' | 'denied';
  campaignId?: string;
  scheduledFor?: Date;
  createdBy?: string;
  policyDecisions?: Message['policyDecisions'];
  /**
   * The recipient's contact when the caller knows it (a reply knows who wrote), sparing its
   * read; null when the caller knows there is none.
   */
  contact?: RecipientContact | null;
}

/** What a message records of its recipient's contact. */
export type RecipientContact = Pick<Contact, '_id' | 'waId' | 'userId'>;

const DUPLICATE_KEY = 11000;
const BSUID = /^[A-Z]{2}\.[A-Za-z0-9]+$/;
export const CLAIMABLE: MessageStatus[] = ['queued', 'scheduled'];

@injectable()
export class Messenger {
  constructor(
    @inject(MessageModel.token) private readonly messages: Model<Message>,
    @inject(ContactDirectory) private readonly directory: ContactDirectory,
    @inject(Senders) private readonly senders: Senders,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(MarketingPreferences) private readonly preferences: MarketingPreferences,
    @inject(MessageKeys) private readonly keys: MessageKeys,
    @inject(SendFeedback) private readonly feedback: SendFeedback,
    @inject(MessageFacts) private readonly facts: MessageFacts,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(MessageLocks) private readonly locks: MessageLocks,
  ) {}

  /** Stores the message under its key; returns the earlier one when the key was used before. */
  async store(request: OutboundRequest, options: StoreOptions): Promise<{ message: Message; created: boolean }> {
    const stored = await this.insert(request, options, false);
    if (stored.created) await this.keys.remember(`key:${options.idempotencyKey}`, String(stored.message._id));
    return stored;
  }

  /**
   * Stores the message already claimed for sending and sends it: what `store` then `dispatch`
   * do, without the claim's read and write (nobody else can hold a message this call just
   * created). A key used before sends nothing and returns the earlier message as it stands.
   */
  async storeAndSend(request: OutboundRequest, options: Omit<StoreOptions, 'status' | 'scheduledFor'>, signal?: AbortSignal): Promise<{ message: Message; created: boolean }> {
    const stored = await this.insert(request, options, true);
    if (!stored.created) return stored;
    return { message: await this.sendClaimed(stored.message, { signal, unkeyed: true }), created: true };
  }

  /**
   * Inserts the message. The unique index on the idempotency key refuses a second copy, so a new
   * key costs no lookup first; a used one costs the refused insert and the lookup.
   */
  private async insert(request: OutboundRequest, options: StoreOptions, claimed: boolean): Promise<{ message: Message; created: boolean }> {
    const sender = this.senders.resolve(request.from);
    const isUserId = BSUID.test(request.to);
    const phone = isUserId ? undefined : request.to.replace(/\D/g, '');
    const contact = options.contact !== undefined ? options.contact : await this.directory.find(request.to);
    const status = claimed ? 'sending' : options.status ?? 'queued';
    const now = new Date();
    const doc: Omit<Message, '_id'> & { _id?: Types.ObjectId } = {
      ...(options.id ? { _id: options.id } : {}),
      direction: 'outbound', idempotencyKey: options.idempotencyKey, phoneNumberId: sender.phoneNumberId,
      contactId: contact?._id, phone: phone ?? contact?.waId, userId: isUserId ? request.to : contact?.userId,
      type: request.template ? 'template' : request.buttons ? 'interactive' : 'text',
      text: request.text, template: request.template,
      interactive: request.buttons ? { buttons: request.buttons } : undefined,
      context: request.replyTo ? { messageId: request.replyTo } : undefined,
      status, statusRank: STATUS_RANK[status] ?? 0,
      // Claimed at once: the timeline still shows it queued, then taken for sending.
      timeline: claimed ? [{ status: 'queued', at: now, source: 'flowgate' }, { status, at: now, source: 'flowgate' }] : [{ status, at: now, source: 'flowgate' }],
      attempts: claimed ? 1 : 0, policyDecisions: options.policyDecisions ?? [], origin: options.origin, campaignId: options.campaignId,
      scheduledFor: options.scheduledFor, createdBy: options.createdBy, createdAt: now, updatedAt: now,
      ...(request.previewUrl !== undefined ? { content: { previewUrl: request.previewUrl } } : {}),
    };
    try {
      const message = await this.mongo.insertNew<Message>(this.messages, doc);
      this.realtime.publish('messages', 'message.created', toMessageView(message));
      return { message, created: true };
    } catch (error) {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      const earlier = await this.byIdempotencyKey(options.idempotencyKey);
      if (!earlier) throw error;
      return { message: earlier, created: false };
    }
  }

  /** The message stored under an idempotency key, if any. */
  async byIdempotencyKey(key: string): Promise<Message | null> {
    // Its key entry is missing only while its first sender is still at work (or died there).
    return await this.keys.byIdempotencyKey(key) ?? this.messages.findOne({ idempotencyKey: key }).lean<Message>();
  }

  async get(id: string): Promise<Message | null> {
    return Types.ObjectId.isValid(id) ? this.messages.findById(id).lean<Message>() : null;
  }

  /**
   * Sends a stored message if it is still waiting (queued or scheduled). Whoever claims it sends
   * it; everyone else gets the message as it stands. Never throws for provider errors: they are
   * recorded on the message.
   */
  async dispatch(id: Types.ObjectId | string, signal?: AbortSignal): Promise<Message> {
    const now = new Date();
    // By `_id` (FerretDB serves only that from an index; see MongoConnection.findOneAndUpdateById),
    // under the message's lock there: two runners claiming at once would both pass the check.
    const claimed = await this.locks.hold(id, () => this.mongo.findOneAndUpdateById(
      this.messages, { _id: id, status: { $in: CLAIMABLE } },
      { $set: { status: 'sending', statusRank: STATUS_RANK.sending, updatedAt: now }, $inc: { attempts: 1 }, $push: { timeline: { status: 'sending', at: now, source: 'flowgate' } } },
    ));
    if (!claimed) {
      const current = await this.messages.findById(id).lean<Message>();
      if (!current) throw new Error(`message ${String(id)} vanished`);
      return current;
    }
    return this.sendClaimed(claimed, { signal });
  }

  /**
   * Calls the Graph API for a message this caller claimed and records the answer. `unkeyed`: the
   * message's `key:` entry is not written yet (storeAndSend); it goes with the wamid's, in one write.
   */
  private async sendClaimed(claimed: Message, options: { signal?: AbortSignal; unkeyed?: boolean } = {}): Promise<Message> {
    const sender = this.senders.resolve(claimed.phoneNumberId);
    const recipient = claimed.phone ? { to: `+${claimed.phone}` } : { recipient: claimed.userId };
    const result = await sender.client.send(buildPayload(claimed), { ...recipient, replyTo: claimed.context?.messageId, callbackData: String(claimed._id), signal: options.signal });
    const at = new Date();
    const keys = options.unkeyed ? [`key:${claimed.idempotencyKey}`] : [];
    let after: Message;
    if (result.ok) {
      await this.keys.rememberAll([...keys, `wamid:${result.value.providerMessageId}`], String(claimed._id));
      const accepted = STATUS_RANK.accepted as number;
      after = await this.settle(claimed._id, (m) => m.statusRank < accepted, { statusRank: { $lt: accepted } }, {
        set: { providerMessageId: result.value.providerMessageId, updatedAt: at },
        unset: ['error'],
        push: { status: 'accepted', at, source: 'api', ...(result.value.messageStatus ? { pricing: { message_status: result.value.messageStatus } } : {}) },
        // A fast status webhook may already have moved it past `accepted`.
        ifStill: { status: 'accepted', statusRank: accepted },
      });
      this.facts.outbound('sent', claimed, at);
    } else {
      await this.keys.rememberAll(keys, String(claimed._id));
      const status = result.outcome === 'unknown' ? 'unknown' : 'failed';
      after = await this.settle(claimed._id, (m) => m.status === 'sending', { status: 'sending' }, {
        ifStill: { status, statusRank: STATUS_RANK[status], error: result.error, updatedAt: at, ...(status === 'failed' ? { failedAt: at } : {}) },
        pushIfStill: { status, at, source: 'api', errors: [result.error] },
      });
      await this.feedback.refused({ phoneNumberId: claimed.phoneNumberId, recipient: claimed.phone ?? claimed.userId, error: result.error, at });
      if (status === 'failed') this.facts.outbound('failed', claimed, at, { errorCode: String(result.error.code) });
      if (result.error.code === 131050 && claimed.contactId) {
        await this.preferences.record({ contactId: claimed.contactId, ...(claimed.phone ? { waId: claimed.phone } : {}), phoneNumberId: claimed.phoneNumberId, value: 'stop', at, source: 'send_error_131050', messageId: String(claimed._id) });
      }
    }
    this.realtime.publish('messages', result.ok ? 'message.sent' : 'message.failed', toMessageView(after));
    return after;
  }

  /**
   * One write recording a send's answer, returning the message after it: `set`, `unset` and
   * `push` always; `ifStill` and `pushIfStill` only while the message matches `still` (the same
   * condition as `stillFilter`). On MongoDB that is a conditional findOneAndUpdate (and a plain
   * one when the condition failed); on FerretDB a read and an updateOne, both by `_id`, the form
   * it serves from its index (see MongoConnection.updateOneById), with the result built here,
   * under the message's lock, which a status webhook's write takes too (else a `read` written
   * between the read and the write here would be overwritten by `accepted`); without Redis the
   * answer is recorded unlocked rather than lost.
   */
  private async settle(
    id: Types.ObjectId, still: (message: Message) => boolean, stillFilter: Record<string, unknown>,
    change: { set?: Record<string, unknown>; unset?: string[]; push?: TimelineEntry; ifStill?: Record<string, unknown>; pushIfStill?: TimelineEntry },
  ): Promise<Message> {
    const update = (matches: boolean): UpdateQuery<Message> => {
      const set = { ...change.set, ...(matches ? change.ifStill : {}) };
      const pushed = [change.push, matches ? change.pushIfStill : undefined].filter((e): e is TimelineEntry => e !== undefined);
      return {
        ...(Object.keys(set).length ? { $set: set } : {}),
        ...(change.unset?.length ? { $unset: Object.fromEntries(change.unset.map((field) => [field, 1])) } : {}),
        ...(pushed.length ? { $push: { timeline: pushed.length === 1 ? pushed[0] : { $each: pushed } } } : {}),
      };
    };
    const unconditional = update(false);
    const changesAnyway = Object.keys(unconditional).length > 0;
    if (!this.mongo.stockFerretDb) {
      const options = { returnDocument: 'after' as const, lean: true };
      const after = await this.messages.findOneAndUpdate({ _id: id, ...stillFilter }, update(true), options) as Message | null
        ?? (changesAnyway ? await this.messages.findOneAndUpdate({ _id: id }, unconditional, options) : await this.messages.findById(id).lean()) as Message | null;
      if (!after) throw new Error(`message ${String(id)} vanished`);
      return after;
    }
    return this.locks.hold(id, async () => {
      const current = await this.messages.findById(id).lean<Message>();
      if (!current) throw new Error(`message ${String(id)} vanished`);
      const matches = still(current);
      if (matches || changesAnyway) await this.messages.updateOne({ _id: id }, update(matches));
      const after: Message = { ...current, ...change.set, ...(matches ? change.ifStill : {}) };
      for (const field of change.unset ?? []) delete (after as unknown as Record<string, unknown>)[field];
      after.timeline = [...(current.timeline ?? []), ...[change.push, matches ? change.pushIfStill : undefined].filter((e): e is TimelineEntry => e !== undefined)];
      return after;
    }, { orUnlocked: true });
  }

  /**
   * Puts a failed or unknown message back in the queue for another attempt, returning false when
   * it is in another state. `unknown` may have reached the user: the caller chose to resend.
   */
  async requeue(id: Types.ObjectId | string, scheduledFor?: Date): Promise<Message | null> {
    const now = new Date();
    const status = scheduledFor ? 'scheduled' : 'queued';
    // Under the message's lock on FerretDB: a late `sent` webhook for an `unknown` message must not be overwritten.
    return this.locks.hold(id, () => this.mongo.findOneAndUpdateById(
      this.messages, { _id: id, direction: 'outbound', status: { $in: ['failed', 'unknown'] } },
      { $set: { status, statusRank: 0, updatedAt: now, ...(scheduledFor ? { scheduledFor } : {}) }, $push: { timeline: { status, at: now, source: 'flowgate' } } },
    ));
  }

  /** Cancels a message that has not been claimed for sending yet. */
  async cancel(id: string): Promise<Message> {
    const now = new Date();
    // Under the message's lock on FerretDB: a cancel passing its check while a runner claims would
    // answer `cancelled` for a message being sent.
    const cancelled = Types.ObjectId.isValid(id) ? await this.locks.hold(id, () => this.mongo.findOneAndUpdateById(
      this.messages, { _id: id, direction: 'outbound', status: { $in: CLAIMABLE } },
      { $set: { status: 'cancelled', updatedAt: now }, $push: { timeline: { status: 'cancelled', at: now, source: 'flowgate' } } },
    )) : null;
    if (cancelled) {
      this.realtime.publish('messages', 'message.updated', toMessageView(cancelled));
      return cancelled;
    }
    const current = await this.get(id);
    if (!current) throw new HttpError(404, 'NOT_FOUND', `Message ${JSON.stringify(id)} was not found`);
    throw new HttpError(409, 'WHATSAPP_NOT_CANCELLABLE', `Message is ${current.status}; only queued or scheduled messages can be cancelled`, { status: current.status });
  }

  /** Marks an inbound message read once; a repeated call changes nothing. */
  async markRead(providerMessageId: string, signal?: AbortSignal): Promise<{ marked: boolean; message: Message }> {
    const inbound = await this.keys.byProviderId(providerMessageId);
    if (!inbound || inbound.direction !== 'inbound') throw new HttpError(404, 'NOT_FOUND', `No inbound message ${providerMessageId}`);
    if (inbound.readMarkedAt) return { marked: false, message: inbound };
    const result = await this.senders.resolve(inbound.phoneNumberId).client.markRead(providerMessageId, signal);
    if (!result.ok) throw Object.assign(new Error(result.error.reason), { providerError: result.error });
    const after = await this.messages.findOneAndUpdate({ _id: inbound._id }, { $set: { readMarkedAt: new Date() } }, { returnDocument: 'after', lean: true }) as Message;
    return { marked: true, message: after };
  }
}

export function buildPayload(message: Pick<Message, 'type' | 'text' | 'template' | 'interactive' | 'content'>): OutboundPayload {
  if (message.template) {
    const { name, language, variables, components } = message.template;
    const body = Array.isArray(variables)
      ? variables.map((text) => ({ type: 'text', text }))
      : variables ? Object.entries(variables).map(([parameterName, text]) => ({ type: 'text', parameter_name: parameterName, text })) : [];
    const all = [...(components ?? []), ...(body.length ? [{ type: 'body', parameters: body }] : [])];
    return { type: 'template', template: { name, language: { code: language }, ...(all.length ? { components: all } : {}) } };
  }
  const buttons = (message.interactive as { buttons?: Array<{ id: string; title: string }> } | undefined)?.buttons;
  if (buttons) {
    return {
      type: 'interactive',
      interactive: { type: 'button', body: { text: message.text ?? '' }, action: { buttons: buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) } },
    };
  }
  const previewUrl = (message.content as { previewUrl?: boolean } | undefined)?.previewUrl;
  return { type: 'text', text: { body: message.text ?? '', ...(previewUrl !== undefined ? { preview_url: previewUrl } : {}) } };
}
