import type { FromSchema } from 'json-schema-to-ts';
import { commonSchemas, ROLES } from '../../core/index.js';

export const roleSchema = { enum: ROLES } as const;

export const userSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'email', 'name', 'status', 'role', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    status: { enum: ['active', 'disabled'] },
    role: { anyOf: [roleSchema, { type: 'null' }] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    lastLoginAt: { type: 'string', format: 'date-time' },
  },
} as const;
export type UserView = FromSchema<typeof userSchema>;

export const apiKeySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'role', 'createdBy', 'createdAt', 'expiresAt', 'lastUsedAt', 'revokedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: roleSchema,
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    key: { type: 'string', description: 'The key itself: returned once, at creation, and never again' },
  },
} as const;
export type ApiKeyView = FromSchema<typeof apiKeySchema>;

export const tokenPairSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['accessToken', 'tokenType', 'expiresIn', 'refreshToken', 'refreshTokenExpiresAt', 'user'],
  properties: {
    accessToken: { type: 'string' },
    tokenType: { const: 'Bearer' },
    expiresIn: { type: 'integer', description: 'Seconds the access token is valid' },
    refreshToken: { type: 'string', description: 'Single use: each refresh returns a new one' },
    refreshTokenExpiresAt: { type: 'string', format: 'date-time' },
    user: userSchema,
  },
} as const;

export const nameSchema = { type: 'string', minLength: 1, maxLength: 200 } as const;
export const emailSchema = { type: 'string', format: 'email', maxLength: 254 } as const;
export const passwordSchema = { type: 'string', minLength: 12, maxLength: 200 } as const;
export const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: commonSchemas.objectId } } as const;
export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: commonSchemas.objectId,
} as const;

export const refreshTokenSchema = { type: 'string', pattern: '^[A-Za-z0-9_-]{16,64}\\.[A-Za-z0-9_-]{16,128}$' } as const;
