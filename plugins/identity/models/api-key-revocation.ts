import { Schema, Types } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * That an API key was revoked, keyed by the key's id. The key records themselves are backed up
 * (their names and history matter), so a restore can bring back one with `revokedAt: null`; this
 * collection is left out of backups, so a restore never undoes a revocation.
 */
export interface ApiKeyRevocation {
  _id: Types.ObjectId;
  revokedAt: Date;
}

const schema = new Schema<ApiKeyRevocation>({
  _id: { type: Schema.Types.ObjectId, required: true },
  revokedAt: { type: Date, required: true },
}, { collection: 'identity_api_key_revocations', versionKey: false });

export const ApiKeyRevocationModel = defineModel<ApiKeyRevocation>('IdentityApiKeyRevocation', schema, { backup: false });
