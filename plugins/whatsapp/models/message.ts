import { Schema, type Types } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import type { ProviderError } from '../graph/provider-errors.js';

export const OUTBOUND_STATES = ['queued', 'scheduled', 'sending', 'unknown', 'accepted', 'sent', 'delivered', 'read', 'played', 'failed', 'denied', 'cancelled'] as const;
export type MessageStatus = (typeof OUTBOUND_STATES)[number] | 'received';
export type ProviderStatus = 'sent' | 'delivered' | 'read' | 'played' | 'failed';

/**
 * Order of provider statuses: a status only moves forward, so a late `delivered` never
 * overwrites `read`, and `read` may come with no `delivered` before it (reference §1.6).
 */
export const STATUS_RANK: Readonly<Record<string, number>> = {
  queued: 0, scheduled: 0, denied: 0, cancelled: 0, sending: 1, unknown: 1, accepted: 2, sent: 3, failed: 3.5, delivered: 4, read: 5, played: 6, received: 0,
};

export interface TimelineEntry {
  status: string;
  at: Date;
  source: 'api' | 'webhook' | 'flowgate';
  errors?: ProviderError[];
  pricing?: Record<string, unknown>;
  conversation?: Record<string, unknown>;
}

export interface PolicyDecision {
  policy: string;
  decision: 'allow' | 'deny' | 'defer';
  code?: string;
  reason?: string;
  until?: Date;
}

export interface TemplateContent {
  name: string;
  language: string;
  /** Body parameters: positional list or named map. */
  variables?: string[] | Record<string, string>;
  /** Extra Graph API components (header, buttons), passed through as given. */
  components?: unknown[];
}

export interface Message {
  _id: Types.ObjectId;
  direction: 'inbound' | 'outbound';
  /** Unique: the workflow step's idempotency key, the API caller's key, `in:<wamid>` for inbound. */
  idempotencyKey: string;
  phoneNumberId: string;
  contactId?: string;
  /** The customer's number (digits), when known. */
  phone?: string;
  userId?: string;
  type: string;
  text?: string;
  template?: TemplateContent;
  interactive?: Record<string, unknown>;
  /** Inbound media, location, button and unsupported content, typed by `type`. */
  content?: Record<string, unknown>;
  context?: { messageId?: string; from?: string };
  providerMessageId?: string;
  status: MessageStatus;
  statusRank: number;
  timeline: TimelineEntry[];
  sentAt?: Date;
  deliveredAt?: Date;
  readAt?: Date;
  failedAt?: Date;
  error?: ProviderError;
  attempts: number;
  policyDecisions: PolicyDecision[];
  origin: 'api' | 'workflow' | 'campaign' | 'schedule' | 'webhook';
  campaignId?: string;
  scheduledFor?: Date;
  readMarkedAt?: Date;
  createdBy?: string;
  createdAt: Date;
  updatedAt: Date;
}

const timelineEntrySchema = new Schema<TimelineEntry>({
  status: { type: String, required: true },
  at: { type: Date, required: true },
  source: { type: String, required: true },
  errors: { type: Schema.Types.Mixed },
  pricing: { type: Schema.Types.Mixed },
  conversation: { type: Schema.Types.Mixed },
}, { _id: false, suppressReservedKeysWarning: true });

const policyDecisionSchema = new Schema<PolicyDecision>({
  policy: { type: String, required: true },
  decision: { type: String, required: true },
  code: String,
  reason: String,
  until: Date,
}, { _id: false });

const schema = new Schema<Message>({
  direction: { type: String, required: true, enum: ['inbound', 'outbound'] },
  idempotencyKey: { type: String, required: true },
  phoneNumberId: { type: String, required: true },
  contactId: String,
  phone: String,
  userId: String,
  type: { type: String, required: true },
  text: String,
  template: { type: Schema.Types.Mixed },
  interactive: { type: Schema.Types.Mixed },
  content: { type: Schema.Types.Mixed },
  context: { messageId: String, from: String, _id: false },
  providerMessageId: String,
  status: { type: String, required: true },
  statusRank: { type: Number, required: true, default: 0 },
  timeline: { type: [timelineEntrySchema], default: [] },
  sentAt: Date,
  deliveredAt: Date,
  readAt: Date,
  failedAt: Date,
  error: { type: Schema.Types.Mixed },
  attempts: { type: Number, default: 0 },
  policyDecisions: { type: [policyDecisionSchema], default: [] },
  origin: { type: String, required: true },
  campaignId: String,
  scheduledFor: Date,
  readMarkedAt: Date,
  createdBy: String,
  createdAt: { type: Date, default: () => new Date() },
  updatedAt: { type: Date, default: () => new Date() },
}, { versionKey: false, minimize: false });
schema.index({ idempotencyKey: 1 }, { unique: true });
schema.index({ providerMessageId: 1 });
schema.index({ phone: 1, createdAt: -1 });
schema.index({ contactId: 1, createdAt: -1 });
schema.index({ status: 1, createdAt: -1 });
schema.index({ campaignId: 1, status: 1 });

export const MessageModel = defineModel<Message>('WhatsappMessage', schema);
