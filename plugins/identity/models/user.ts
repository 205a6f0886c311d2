import { Schema } from 'mongoose';
import { defineModel, ROLES, type RoleName } from '../../../core/index.js';

export type UserStatus = 'active' | 'disabled';

export interface User {
  email: string;
  name: string;
  status: UserStatus;
  /** One role, which includes every role below it; null after the role was revoked (no access). */
  role: RoleName | null;
  /** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url). */
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt?: Date;
}

const schema = new Schema<User>({
  email: { type: String, required: true },
  name: { type: String, required: true },
  status: { type: String, required: true, enum: ['active', 'disabled'] },
  role: { type: String, default: null, enum: [...ROLES, null] },
  passwordHash: { type: String, required: true },
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
  lastLoginAt: Date,
}, { collection: 'identity_users', versionKey: false });
schema.index({ email: 1 }, { unique: true });
schema.index({ role: 1, status: 1 });

export const UserModel = defineModel<User>('IdentityUser', schema);
