import { Schema, type Types } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import type { TemplateContent } from './message.js';

/**
 * A bulk send. Each recipient is a message with `campaignId`, created up front, so the campaign's
 * progress survives a restart: whichever process holds the lease sends the queued ones.
 */
export interface Campaign {
  _id: Types.ObjectId;
  name?: string;
  phoneNumberId: string;
  text?: string;
  template?: TemplateContent;
  recipients: number;
  /** Every recipient with the id its message has (or will have): the runner walks this list. */
  members: Array<{ to: string; messageId: Types.ObjectId }>;
  state: 'running' | 'completed' | 'cancelled';
  leaseOwner?: string;
  leaseUntil: Date;
  createdBy?: string;
  createdAt: Date;
  completedAt?: Date;
}

const schema = new Schema<Campaign>({
  name: String,
  phoneNumberId: { type: String, required: true },
  text: String,
  template: { type: Schema.Types.Mixed },
  recipients: { type: Number, required: true },
  members: { type: [new Schema({ to: String, messageId: Schema.Types.ObjectId }, { _id: false })], default: [] },
  state: { type: String, required: true },
  leaseOwner: String,
  leaseUntil: { type: Date, required: true },
  createdBy: String,
  createdAt: { type: Date, default: () => new Date() },
  completedAt: Date,
}, { versionKey: false });
schema.index({ state: 1, leaseUntil: 1 });

export const CampaignModel = defineModel<Campaign>('WhatsappCampaign', schema);
