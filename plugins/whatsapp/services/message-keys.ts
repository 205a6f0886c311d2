/** Finds messages by idempotency key or provider id through `_id` lookups (see MessageKey). */
import type { Model } from 'mongoose';
import { inject, injectable, MongoConnection } from '../../../core/index.js';
import { MessageModel, type Message } from '../models/message.js';
import { MessageKeyModel, type MessageKey } from '../models/message-key.js';

const DUPLICATE_KEY = 11000;
/** How long, and how many, inbound messages this process keeps at hand for the workflows they start. */
const RECENT_INBOUND_MS = 5 * 60_000;
const RECENT_INBOUND_MAX = 10_000;

/**
 * What a reply needs of the inbound message it answers: who wrote, to which number, when. None
 * of these fields changes once the message is stored, so a copy never goes stale.
 */
export type InboundFacts = Pick<Message, '_id' | 'direction' | 'phone' | 'userId' | 'phoneNumberId' | 'contactId' | 'createdAt'>;

@injectable()
export class MessageKeys {
  /** Inbound messages stored by this process lately, by wamid, oldest first. */
  private readonly recentInbound = new Map<string, { facts: InboundFacts; until: number }>();

  constructor(
    @inject(MessageKeyModel.token) private readonly keys: Model<MessageKey>,
    @inject(MessageModel.token) private readonly messages: Model<Message>,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
  ) {}

  /** Records `key` → message; an existing key is kept (the first message wins). */
  async remember(key: string, messageId: string): Promise<void> {
    await this.rememberAll([key], messageId);
  }

  /** Records several keys of one message in one write; existing keys are kept. */
  async rememberAll(keys: string[], messageId: string): Promise<void> {
    // Batched with other processes' keys written meanwhile (one command for all of them).
    await Promise.all(keys.map((_id) => this.mongo.insertRaw(this.keys, { _id, messageId }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
    })));
  }

  async byIdempotencyKey(key: string): Promise<Message | null> {
    return this.lookup(`key:${key}`);
  }

  async byProviderId(providerMessageId: string): Promise<Message | null> {
    return this.lookup(`wamid:${providerMessageId}`);
  }

  /**
   * Keeps an inbound message this process just stored at hand: the workflow it starts usually
   * runs here within seconds, and its reply and window check then read nothing.
   */
  noteInbound(message: Message): void {
    if (!message.providerMessageId) return;
    const now = Date.now();
    this.recentInbound.delete(message.providerMessageId);
    this.recentInbound.set(message.providerMessageId, {
      facts: { _id: message._id, direction: message.direction, phone: message.phone, userId: message.userId, phoneNumberId: message.phoneNumberId, contactId: message.contactId, createdAt: message.createdAt },
      until: now + RECENT_INBOUND_MS,
    });
    for (const [wamid, entry] of this.recentInbound) {
      if (entry.until > now && this.recentInbound.size <= RECENT_INBOUND_MAX) break;
      this.recentInbound.delete(wamid);
    }
  }

  /** The inbound message with this wamid, from this process's recent ones or the store; null when there is none. */
  async inbound(providerMessageId: string): Promise<InboundFacts | null> {
    const recent = this.recentInbound.get(providerMessageId);
    if (recent && recent.until > Date.now()) return recent.facts;
    const found = await this.byProviderId(providerMessageId);
    return found?.direction === 'inbound' ? found : null;
  }

  private async lookup(key: string): Promise<Message | null> {
    const entry = await this.keys.findById(key).lean<MessageKey>();
    return entry ? this.messages.findById(entry.messageId).lean<Message>() : null;
  }
}
