import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * A sign-in: one family of refresh tokens. Only the hash of the current token is kept; each
 * refresh replaces it, so presenting any earlier token of the family is a reuse, and revokes it.
 */
export interface Session {
  _id: string;
  userId: string;
  refreshHash: string;
  generation: number;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason?: string;
  ip?: string;
}

const schema = new Schema<Session>({
  _id: { type: String, required: true },
  userId: { type: String, required: true },
  refreshHash: { type: String, required: true },
  generation: { type: Number, required: true },
  createdAt: { type: Date, required: true },
  lastUsedAt: { type: Date, required: true },
  expiresAt: { type: Date, required: true },
  revokedAt: { type: Date, default: null },
  revokedReason: String,
  ip: String,
}, { collection: 'identity_sessions', versionKey: false });
schema.index({ userId: 1 });
schema.index({ expiresAt: 1 });

// Sessions are credentials: a restore must not bring revoked or stale ones back.
export const SessionModel = defineModel<Session>('IdentitySession', schema, { backup: false });
