import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * One fact as it was reported, kept for `retentionDays`. `_id` is the event id, so a repeated
 * report (webhook redelivery, client retry) is refused by the unique `_id` index and counted once.
 */
export interface AnalyticsEvent {
  _id: string;
  type: string;
  occurredAt: Date;
  dimensions: Record<string, string>;
  value?: number;
  source: 'plugin' | 'api';
  /** The ingestion batch that stored it: recovery after a crash counts only the batch's own inserts. */
  batch: string;
  receivedAt: Date;
}

const schema = new Schema<AnalyticsEvent>({
  _id: { type: String, required: true },
  type: { type: String, required: true },
  occurredAt: { type: Date, required: true },
  dimensions: { type: Schema.Types.Mixed, default: {} },
  value: Number,
  source: { type: String, required: true },
  batch: { type: String, required: true },
  receivedAt: { type: Date, required: true },
}, { versionKey: false, minimize: false });
// Used by MongoDB for the raw query and the retention job; FerretDB v1 scans (docs/analytics.md).
schema.index({ occurredAt: -1, _id: -1 });
schema.index({ type: 1, occurredAt: -1 });

export const AnalyticsEventModel = defineModel<AnalyticsEvent>('AnalyticsEvent', schema);
