/** Finds messages by idempotency key or provider id through `_id` lookups (see MessageKey). */
import type { Model } from 'mongoose';
import { inject, injectable } from '../../../core/index.js';
import { MessageModel, type Message } from '../models/message.js';
import { MessageKeyModel, type MessageKey } from '../models/message-key.js';

const DUPLICATE_KEY = 11000;

@injectable()
export class MessageKeys {
  constructor(
    @inject(MessageKeyModel.token) private readonly keys: Model<MessageKey>,
    @inject(MessageModel.token) private readonly messages: Model<Message>,
  ) {}

  /** Records `key` → message; an existing key is kept (the first message wins). */
  async remember(key: string, messageId: string): Promise<void> {
    try {
      await this.keys.collection.insertOne({ _id: key, messageId } as never);
    } catch (error) {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
    }
  }

  async byIdempotencyKey(key: string): Promise<Message | null> {
    return this.lookup(`key:${key}`);
  }

  async byProviderId(providerMessageId: string): Promise<Message | null> {
    return this.lookup(`wamid:${providerMessageId}`);
  }

  private async lookup(key: string): Promise<Message | null> {
    const entry = await this.keys.findById(key).lean<MessageKey>();
    return entry ? this.messages.findById(entry.messageId).lean<Message>() : null;
  }
}
