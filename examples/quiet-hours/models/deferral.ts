import { defineModel, Schema } from 'flowgate/sdk';
import type { DeferralView } from '../schemas.js';

/**
 * A step held back by quiet hours. `_id` is derived from the step's idempotency key and the
 * resume time, so a policy evaluated twice for the same night stores one record.
 */
export interface Deferral {
  _id: string;
  phone: string;
  timeZone: string;
  until: Date;
  workflowId: string;
  executionId: string;
  stepId: string;
  createdAt: Date;
}

const schema = new Schema<Deferral>({
  _id: { type: String, required: true },
  phone: { type: String, required: true },
  timeZone: { type: String, required: true },
  until: { type: Date, required: true },
  workflowId: { type: String, required: true },
  executionId: { type: String, required: true },
  stepId: { type: String, required: true },
  createdAt: { type: Date, required: true },
}, { versionKey: false });

export const DeferralModel = defineModel<Deferral>('QuietHoursDeferral', schema);

export function toDeferralView(doc: Deferral): DeferralView {
  return {
    id: doc._id, phone: doc.phone, timeZone: doc.timeZone, until: doc.until.toISOString(), workflowId: doc.workflowId,
    executionId: doc.executionId, stepId: doc.stepId, createdAt: doc.createdAt.toISOString(),
  };
}
