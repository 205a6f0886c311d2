import { Schema, Types } from 'mongoose';
import { defineModel } from '../../../core/index.js';

export interface SaleAttribution {
  campaignId?: string;
  templateName?: string;
  workflowId?: string;
  executionId?: string;
}

/** A sale. Voiding keeps it (status `voided`); only its figures stop counting. */
export interface Sale {
  _id: Types.ObjectId;
  /** E.164 digits, the same key as the lead and as WhatsApp's wa_id. */
  contactPhone: string;
  /** In the currency's ISO 4217 minor units. */
  amount: number;
  currency: string;
  agentId: string;
  attribution: SaleAttribution;
  status: 'recorded' | 'voided';
  notes?: string;
  soldAt: Date;
  /** Who recorded it: a user id, or `workflow:<id>` for the sales.record action. */
  recordedBy: string;
  /** A step's idempotency key, or the API caller's, or a fresh one: unique, so a repeat finds the first sale. */
  idempotencyKey: string;
  /** Bumped when a figure changes; the analytics events of each revision have their own ids. */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  voidedAt?: Date;
  voidedBy?: string;
  voidReason?: string;
}

const schema = new Schema<Sale>({
  contactPhone: { type: String, required: true },
  amount: { type: Number, required: true },
  currency: { type: String, required: true },
  agentId: { type: String, required: true },
  attribution: {
    _id: false,
    campaignId: String,
    templateName: String,
    workflowId: String,
    executionId: String,
  },
  status: { type: String, required: true, enum: ['recorded', 'voided'] },
  notes: String,
  soldAt: { type: Date, required: true },
  recordedBy: { type: String, required: true },
  idempotencyKey: { type: String, required: true },
  revision: { type: Number, required: true, default: 1 },
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
  voidedAt: Date,
  voidedBy: String,
  voidReason: String,
}, { versionKey: false, minimize: false });
// The one lookup besides `_id` that must be exact and race-free: a repeated record finds its sale.
schema.index({ idempotencyKey: 1 }, { unique: true });
// FerretDB v1 scans regardless; on MongoDB these make reports cost the period, not the collection.
schema.index({ soldAt: 1 });
schema.index({ agentId: 1, soldAt: 1 });

export const SaleModel = defineModel<Sale>('SalesSale', schema);
