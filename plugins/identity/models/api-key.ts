import { Schema, Types } from 'mongoose';
import { defineModel, ROLES, type RoleName } from '../../../core/index.js';

/** A machine client's key. The secret is shown once at creation; only its SHA-256 is kept. */
export interface ApiKey {
  _id: Types.ObjectId;
  name: string;
  role: RoleName;
  secretHash: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const schema = new Schema<ApiKey>({
  name: { type: String, required: true },
  role: { type: String, required: true, enum: ROLES },
  secretHash: { type: String, required: true },
  createdBy: { type: String, required: true },
  createdAt: { type: Date, required: true },
  expiresAt: { type: Date, default: null },
  lastUsedAt: { type: Date, default: null },
  revokedAt: { type: Date, default: null },
}, { collection: 'identity_api_keys', versionKey: false });

export const ApiKeyModel = defineModel<ApiKey>('IdentityApiKey', schema);
