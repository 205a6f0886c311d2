import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * Lookup keys of messages: `key:<idempotency key>` and `wamid:<provider message id>` → message id.
 * A keyed collection rather than a secondary-index query because FerretDB v1 (our CI store)
 * answers only `_id` lookups from an index; other filters scan the collection, which made each
 * status webhook cost a full scan of the messages (measured: ~140 ms at 3,000 documents).
 */
export interface MessageKey {
  _id: string;
  messageId: string;
}

const schema = new Schema<MessageKey>({ _id: { type: String, required: true }, messageId: { type: String, required: true } }, { versionKey: false });

export const MessageKeyModel = defineModel<MessageKey>('WhatsappMessageKey', schema);
