import type { FromSchema } from 'json-schema-to-ts';

export const identityConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'audience', 'accessTokenTtlSeconds', 'refreshTokenTtlSeconds', 'passwordCost', 'loginThrottle', 'owner'],
  properties: {
    jwtSecret: { type: 'string', minLength: 32, description: 'HS256 key for access tokens (FLOWGATE_JWT_SECRET)' },
    issuer: { type: 'string', minLength: 1, default: 'flowgate' },
    audience: { type: 'string', minLength: 1, default: 'flowgate-api' },
    accessTokenTtlSeconds: { type: 'integer', minimum: 30, maximum: 3600, default: 900 },
    refreshTokenTtlSeconds: { type: 'integer', minimum: 300, maximum: 7776000, default: 2592000 },
    passwordCost: {
      type: 'integer', minimum: 12, maximum: 20, default: 15,
      description: 'log2 of the scrypt cost N for new password hashes (r=8, p=1); stored with each hash',
    },
    loginThrottle: {
      type: 'object',
      additionalProperties: false,
      required: ['accountLimit', 'ipLimit', 'windowSeconds'],
      default: {},
      properties: {
        accountLimit: { type: 'integer', minimum: 1, default: 5, description: 'Failed sign-ins per account within the window before it is locked for the rest of it' },
        ipLimit: { type: 'integer', minimum: 1, default: 50, description: 'Failed sign-ins per client address within the window' },
        windowSeconds: { type: 'integer', minimum: 1, default: 900 },
      },
    },
    owner: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The first owner, created at start when no owner exists (FLOWGATE_OWNER_EMAIL, FLOWGATE_OWNER_PASSWORD, FLOWGATE_OWNER_NAME)',
      properties: {
        email: { type: 'string', format: 'email' },
        password: { type: 'string', minLength: 12 },
        name: { type: 'string', minLength: 1, default: 'Owner' },
      },
    },
  },
} as const;

export type IdentityConfig = FromSchema<typeof identityConfigSchema>;
export const IdentityConfigToken = Symbol.for('identity.Config');
/** The HS256 key actually used (from the environment, or per process in development and tests). */
export const JwtKeyToken = Symbol.for('identity.JwtKey');
