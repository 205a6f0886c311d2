/**
 * Applies provider statuses to stored messages. Each status is added to the timeline once; the
 * message's current status only moves forward (STATUS_RANK), so out-of-order and repeated
 * webhooks leave the same result whatever order they arrive in.
 */
import { Types, type Model } from 'mongoose';
import { inject, injectable, MongoConnection, Realtime } from '../../../core/index.js';
import type { ProviderError } from '../graph/provider-errors.js';
import { MessageModel, STATUS_RANK, type Message, type ProviderStatus, type TimelineEntry } from '../models/message.js';
import { toMessageView } from '../views.js';
import { MessageKeys } from './message-keys.js';
import { MessageLocks } from './message-locks.js';

export interface ProviderStatusUpdate {
  providerMessageId: string;
  /** `biz_opaque_callback_data`: Flowgate's message id, finds a message whose send answer was lost. */
  callbackData?: string;
  status: ProviderStatus;
  at: Date;
  errors?: ProviderError[];
  pricing?: Record<string, unknown>;
  conversation?: Record<string, unknown>;
}

const AT_FIELD: Record<ProviderStatus, 'sentAt' | 'deliveredAt' | 'readAt' | 'failedAt' | undefined> = {
  sent: 'sentAt', delivered: 'deliveredAt', read: 'readAt', failed: 'failedAt', played: undefined,
};

@injectable()
export class DeliveryTimeline {
  constructor(
    @inject(MessageModel.token) private readonly messages: Model<Message>,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(MessageKeys) private readonly keys: MessageKeys,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(MessageLocks) private readonly locks: MessageLocks,
  ) {}

  /** Returns the message after the update and whether its current status changed; null when the message is not ours. */
  async apply(update: ProviderStatusUpdate): Promise<{ message: Message; applied: boolean } | null> {
    // Our id echoed in biz_opaque_callback_data finds the message even when its send answer was lost.
    // As an ObjectId, so the lock below is keyed by the id as every other holder writes it.
    const echoed = update.callbackData && Types.ObjectId.isValid(update.callbackData) ? new Types.ObjectId(update.callbackData) : undefined;
    if (!this.mongo.stockFerretDb) {
      const found = (echoed ? ours(await this.messages.findById(echoed).lean<Message>()) : null) ?? ours(await this.keys.byProviderId(update.providerMessageId));
      return found ? this.applyTo(found, update) : null;
    }
    // On FerretDB the write goes by `_id` alone (the conditional form scans, and is not isolated
    // from a concurrent write there anyway; see MongoConnection.updateOneById): it is made under
    // the message's lock, which the recording of a send's answer takes too, from the message
    // read under it. The echoed id names the message before any read, so it is read once.
    if (echoed) {
      const result = await this.locks.hold(echoed, async () => {
        const message = ours(await this.messages.findById(echoed).lean<Message>());
        return message ? this.applyTo(message, update) : undefined;
      });
      if (result !== undefined) return result;
    }
    // No echoed id of one of our messages: found by its wamid, then read again under its lock.
    const found = ours(await this.keys.byProviderId(update.providerMessageId));
    if (!found) return null;
    return this.locks.hold(found._id, async () => {
      const message = await this.messages.findById(found._id).lean<Message>();
      return message ? this.applyTo(message, update) : null;
    });
  }

  private async applyTo(message: Message, update: ProviderStatusUpdate): Promise<{ message: Message; applied: boolean } | null> {
    if (!message.providerMessageId) await this.keys.remember(`wamid:${update.providerMessageId}`, String(message._id));
    const entry: TimelineEntry = {
      status: update.status, at: update.at, source: 'webhook',
      ...(update.errors ? { errors: update.errors } : {}),
      ...(update.pricing ? { pricing: update.pricing } : {}),
      ...(update.conversation ? { conversation: update.conversation } : {}),
    };
    const atField = AT_FIELD[update.status];
    const rank = STATUS_RANK[update.status] as number;
    let after: Message | null = null;
    let applied = false;
    // One write per status: read, decide, write only if the message is still as read (else read
    // again; on FerretDB the lock in `apply` keeps it as read).
    for (let attempt = 0; attempt < 10 && !after; attempt++) {
      const current = attempt === 0 ? message : await this.messages.findById(message._id).lean<Message>();
      if (!current) return null;
      const known = (current.timeline ?? []).some((e) => e.status === update.status && e.source === 'webhook');
      const advances = rank > current.statusRank;
      if (known && !advances) return { message: current, applied: false };
      const set: Record<string, unknown> = { providerMessageId: update.providerMessageId, updatedAt: new Date() };
      if (advances) Object.assign(set, { status: update.status, statusRank: rank });
      if (update.status === 'failed' && update.errors?.[0]) set.error = update.errors[0];
      const at = current[atField as keyof Message] as Date | undefined;
      if (atField && !known && (!at || new Date(at) > update.at)) set[atField] = update.at;
      const write = { $set: set, ...(known ? {} : { $push: { timeline: entry } }) };
      if (this.mongo.stockFerretDb) {
        await this.messages.updateOne({ _id: current._id }, write);
        after = { ...current, ...set, timeline: known ? current.timeline : [...(current.timeline ?? []), entry] } as Message;
      } else {
        after = await this.messages.findOneAndUpdate(
          { _id: current._id, statusRank: current.statusRank, status: current.status, updatedAt: current.updatedAt },
          write, { returnDocument: 'after', lean: true },
        ) as Message | null;
      }
      applied = advances;
    }
    if (!after) return null;
    this.realtime.publish('delivery', 'status.updated', {
      messageId: String(after._id), providerMessageId: update.providerMessageId, status: update.status, current: after.status, applied,
      at: update.at.toISOString(), ...(update.errors ? { errors: update.errors } : {}),
    });
    if (applied) this.realtime.publish('messages', 'message.updated', toMessageView(after));
    return { message: after, applied };
  }
}

/** The message if it is one we sent (a status is about an outbound message only). */
function ours(message: Message | null): Message | null {
  return message?.direction === 'outbound' ? message : null;
}
