import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import type { ReportView } from '../schemas.js';

/**
 * A generated report with its figures. `_id` is derived from what made it (the schedule and the
 * window it covers, or the workflow step's idempotency key), so a job or step that runs twice
 * stores one report.
 */
export interface StoredReport extends Omit<ReportView, 'id' | 'from' | 'to' | 'generatedAt' | 'delivery'> {
  _id: string;
  from: Date;
  to: Date;
  generatedAt: Date;
  delivery?: Omit<NonNullable<ReportView['delivery']>, 'at'> & { at?: Date };
}

const schema = new Schema<StoredReport>({
  _id: { type: String, required: true },
  name: String,
  source: { type: Schema.Types.Mixed, required: true },
  spec: { type: Schema.Types.Mixed, required: true },
  from: { type: Date, required: true },
  to: { type: Date, required: true },
  generatedAt: { type: Date, required: true },
  summary: { type: Schema.Types.Mixed, required: true },
  breakdown: Schema.Types.Mixed,
  delivery: Schema.Types.Mixed,
}, { versionKey: false });

export const SalesReportModel = defineModel<StoredReport>('SalesReport', schema);
