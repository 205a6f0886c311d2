import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

export type UpdateKind = 'message' | 'status' | 'preference' | 'template-status' | 'error' | 'other';

/**
 * One update of a webhook POST, stored on its own before the POST is answered. `_id` is the
 * dedup key (wamid for messages, wamid + status for statuses…), so a redelivery inserts nothing.
 */
export interface WebhookUpdate {
  _id: string;
  kind: UpdateKind;
  field: string;
  wabaId?: string;
  phoneNumberId?: string;
  /** The update as Meta sent it, with the metadata and contacts of its change. */
  payload: Record<string, unknown>;
  state: 'stored' | 'processed' | 'failed';
  attempts: number;
  lastError?: string;
  receivedAt: Date;
  processedAt?: Date;
}

const schema = new Schema<WebhookUpdate>({
  _id: { type: String, required: true },
  kind: { type: String, required: true },
  field: { type: String, required: true },
  wabaId: String,
  phoneNumberId: String,
  payload: { type: Schema.Types.Mixed, required: true },
  state: { type: String, required: true, default: 'stored' },
  attempts: { type: Number, default: 0 },
  lastError: String,
  receivedAt: { type: Date, required: true },
  processedAt: Date,
}, { versionKey: false, minimize: false });
schema.index({ state: 1, receivedAt: 1 });

export const WebhookUpdateModel = defineModel<WebhookUpdate>('WhatsappWebhookUpdate', schema);
