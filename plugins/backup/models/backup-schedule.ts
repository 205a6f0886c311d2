import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/** The one backup schedule (`_id: 'schedule'`). Agenda holds the job; this holds what the user asked for. */
export interface BackupScheduleDocument {
  _id: string;
  enabled: boolean;
  /** Cron expression or interval (`1 day`), as Agenda reads it. */
  every?: string;
  timezone?: string;
  /** Archives to keep; older ones are deleted after each successful backup. Absent: keep all. */
  keepLast?: number;
  updatedAt: Date;
  updatedBy?: string;
}

const schema = new Schema<BackupScheduleDocument>({
  _id: { type: String, required: true },
  enabled: { type: Boolean, required: true },
  every: { type: String },
  timezone: { type: String },
  keepLast: { type: Number },
  updatedAt: { type: Date, required: true },
  updatedBy: { type: String },
}, { versionKey: false });

// Not backed up: restoring an old archive must not change how future archives are made.
export const BackupScheduleModel = defineModel<BackupScheduleDocument>('BackupSchedule', schema, { backup: false });
