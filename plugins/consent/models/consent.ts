import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

export const CONSENT_STATES = ['opted_in', 'opted_out', 'unknown'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];
export const CONSENT_SOURCES = ['keyword', 'api', 'import', 'form', 'provider'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** What proves a change: the message that carried it, the words received, who acted. */
export interface ConsentEvidence {
  messageId?: string;
  text?: string;
  actor?: string;
  note?: string;
}

/** One change of consent, never updated or deleted except by erasure: the proof of consent. */
export interface ConsentChange {
  _id: string;
  phone: string;
  /** Unique: a repeated request (webhook redelivery, step retry, API retry) records nothing new. */
  idempotencyKey: string;
  state: 'opted_in' | 'opted_out';
  source: ConsentSource;
  evidence: ConsentEvidence;
  at: Date;
  recordedAt: Date;
}

/** A block: no message at all until `until`. */
export interface ConsentBlock {
  until: Date;
  reason: string;
  kind: 'manual' | 'automatic';
  by?: string;
}

/** The current state of a contact, derived from its latest change. `_id` is the phone's digits. */
export interface ConsentRecord {
  _id: string;
  state: ConsentState;
  source?: ConsentSource;
  evidence?: ConsentEvidence;
  changedAt?: Date;
  /** Time of the change the state comes from, so an older change arriving late never wins. */
  basedOn?: string;
  optOuts: Date[];
  block?: ConsentBlock;
  updatedAt: Date;
}

const evidence = { messageId: String, text: String, actor: String, note: String, _id: false } as const;

const changeSchema = new Schema<ConsentChange>({
  _id: { type: String, required: true },
  phone: { type: String, required: true },
  idempotencyKey: { type: String, required: true },
  state: { type: String, required: true },
  source: { type: String, required: true },
  evidence,
  at: { type: Date, required: true },
  recordedAt: { type: Date, required: true },
}, { versionKey: false });
changeSchema.index({ idempotencyKey: 1 }, { unique: true });
changeSchema.index({ phone: 1, at: -1 });

const recordSchema = new Schema<ConsentRecord>({
  _id: { type: String, required: true },
  state: { type: String, required: true },
  source: String,
  evidence,
  changedAt: Date,
  basedOn: String,
  optOuts: { type: [Date], default: [] },
  block: { until: Date, reason: String, kind: String, by: String, _id: false },
  updatedAt: { type: Date, required: true },
}, { versionKey: false });
recordSchema.index({ state: 1, _id: 1 });

/** Pseudonymous trace of an erasure: a keyed hash, when, who, and how much was removed. */
export interface ErasureRecord {
  _id: string;
  subject: string;
  at: Date;
  actor: string;
  removed: Record<string, number>;
}
const erasureSchema = new Schema<ErasureRecord>({
  _id: { type: String, required: true },
  subject: { type: String, required: true },
  at: { type: Date, required: true },
  actor: { type: String, required: true },
  removed: { type: Schema.Types.Mixed, default: {} },
}, { versionKey: false, minimize: false });
erasureSchema.index({ subject: 1 });

export const ConsentChangeModel = defineModel<ConsentChange>('ConsentChange', changeSchema);
export const ConsentRecordModel = defineModel<ConsentRecord>('ConsentRecord', recordSchema);
export const ErasureRecordModel = defineModel<ErasureRecord>('ConsentErasure', erasureSchema);
