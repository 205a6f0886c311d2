import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';
import type { ReportSpec } from '../schemas.js';

/** A recurring report. Agenda holds when it next runs (one job per schedule id); this holds what it computes. */
export interface ReportSchedule {
  _id: string;
  name: string;
  cron: string;
  spec: ReportSpec;
  /** Headers may hold a receiver's token: they are stored, never shown (only their names are). */
  deliverTo?: { url: string; headers?: Record<string, string> };
  createdBy: string;
  createdAt: Date;
}

const schema = new Schema<ReportSchedule>({
  _id: { type: String, required: true },
  name: { type: String, required: true },
  cron: { type: String, required: true },
  spec: { type: Schema.Types.Mixed, required: true },
  deliverTo: Schema.Types.Mixed,
  createdBy: { type: String, required: true },
  createdAt: { type: Date, required: true },
}, { versionKey: false });

export const ReportScheduleModel = defineModel<ReportSchedule>('SalesReportSchedule', schema);
