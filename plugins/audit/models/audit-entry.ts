import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

export type ActorKind = 'user' | 'apiKey' | 'workflow' | 'system' | 'anonymous';

/** Who did it: a user, an API key, a workflow execution, the system itself, or nobody signed in. */
export interface AuditActor {
  kind: ActorKind;
  id: string;
  role?: string;
  /** For workflow actors: the workflow whose execution `id` acted. */
  workflowId?: string;
}

/**
 * One audit entry as stored. Written once, never updated by the application; its content
 * (everything but `seq`) is hashed into the digest that seals it.
 */
export interface AuditEntry {
  _id: string;
  /** Allocated from one counter shared by every process; gaps are allowed, duplicates are not. */
  seq: number;
  at: Date;
  actor: AuditActor;
  action: string;
  resource: { type: string; id?: string };
  /** Pseudonym of the customer concerned (keyed hash of a phone number or customer id). */
  subject?: string;
  summary: { before?: unknown; after?: unknown };
  status?: number;
  ip?: string;
  requestId?: string;
}

const schema = new Schema<AuditEntry>({
  _id: { type: String, required: true },
  seq: { type: Number, required: true },
  at: { type: Date, required: true },
  actor: { type: Schema.Types.Mixed, required: true },
  action: { type: String, required: true },
  resource: { type: Schema.Types.Mixed, required: true },
  subject: String,
  summary: { type: Schema.Types.Mixed },
  status: Number,
  ip: String,
  requestId: String,
}, { collection: 'audit_entries', minimize: false, versionKey: false, strict: false });
schema.index({ seq: 1 }, { unique: true });
schema.index({ 'actor.id': 1, seq: -1 });
schema.index({ action: 1, seq: -1 });
schema.index({ subject: 1, seq: -1 });
schema.index({ at: 1 });

export const AuditEntryModel = defineModel<AuditEntry>('AuditEntry', schema);
