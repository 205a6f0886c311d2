/**
 * Applies provider statuses to stored messages. Each status is added to the timeline once; the
 * message's current status only moves forward (STATUS_RANK), so out-of-order and repeated
 * webhooks leave the same result whatever order they arrive in.
 */
import { Types, type Model } from 'mongoose';
import { inject, injectable, Realtime } from '../../../core/index.js';
import type { ProviderError } from '../graph/provider-errors.js';
import { MessageModel, STATUS_RANK, type Message, type ProviderStatus, type TimelineEntry } from '../models/message.js';
import { toMessageView } from '../views.js';

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
  ) {}

  /** Returns the message after the update and whether its current status changed; null when the message is not ours. */
  async apply(update: ProviderStatusUpdate): Promise<{ message: Message; applied: boolean } | null> {
    let message = await this.messages.findOne({ providerMessageId: update.providerMessageId, direction: 'outbound' }).lean<Message>();
    if (!message && update.callbackData && Types.ObjectId.isValid(update.callbackData)) {
      message = await this.messages.findOneAndUpdate(
        { _id: update.callbackData, direction: 'outbound' },
        { $set: { providerMessageId: update.providerMessageId } },
        { returnDocument: 'after', lean: true },
      ) as Message | null;
    }
    if (!message) return null;
    const entry: TimelineEntry = {
      status: update.status, at: update.at, source: 'webhook',
      ...(update.errors ? { errors: update.errors } : {}),
      ...(update.pricing ? { pricing: update.pricing } : {}),
      ...(update.conversation ? { conversation: update.conversation } : {}),
    };
    const atField = AT_FIELD[update.status];
    await this.messages.updateOne(
      { _id: message._id, 'timeline.status': { $ne: update.status } },
      {
        $push: { timeline: entry },
        ...(atField ? { $min: { [atField]: update.at } } : {}),
        ...(update.status === 'failed' && update.errors?.[0] ? { $set: { error: update.errors[0] } } : {}),
      },
    );
    const rank = STATUS_RANK[update.status] as number;
    const moved = await this.messages.updateOne(
      { _id: message._id, statusRank: { $lt: rank } },
      { $set: { status: update.status, statusRank: rank, updatedAt: new Date() } },
    );
    const after = await this.messages.findById(message._id).lean<Message>();
    if (!after) return null;
    const applied = moved.modifiedCount > 0;
    this.realtime.publish('delivery', 'status.updated', {
      messageId: String(after._id), providerMessageId: update.providerMessageId, status: update.status, current: after.status, applied,
      at: update.at.toISOString(), ...(update.errors ? { errors: update.errors } : {}),
    });
    if (applied) this.realtime.publish('messages', 'message.updated', toMessageView(after));
    return { message: after, applied };
  }
}
