import type { FromSchema } from 'json-schema-to-ts';

/** Settings of the WhatsApp plugin. Secrets (app secret, verify token, access tokens) come from the environment only. */
export const whatsappConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiUrl', 'apiVersion', 'senders', 'requestTimeoutMs', 'maxSockets', 'sendPolicies', 'bulk', 'retry', 'webhook'],
  properties: {
    apiUrl: { type: 'string', pattern: '^https?://', default: 'https://graph.facebook.com', description: 'Graph API base URL (WHATSAPP_API_URL)' },
    apiVersion: { type: 'string', pattern: '^v\\d+\\.\\d+$', default: 'v25.0' },
    appSecret: { type: 'string', minLength: 1, 'x-secret': true, description: 'Meta app secret: key of X-Hub-Signature-256 (WHATSAPP_APP_SECRET)' },
    verifyToken: { type: 'string', minLength: 1, 'x-secret': true, description: 'String Meta echoes in the webhook handshake (WHATSAPP_VERIFY_TOKEN)' },
    accessToken: { type: 'string', minLength: 1, 'x-secret': true, description: 'System-user token used by every sender without its own (WHATSAPP_ACCESS_TOKEN)' },
    phoneNumberId: { type: 'string', pattern: '^\\d+$', description: 'A single sender, for the common one-number setup (WHATSAPP_PHONE_NUMBER_ID)' },
    businessAccountId: { type: 'string', pattern: '^\\d+$', description: 'WhatsApp Business Account id, for template submission (WHATSAPP_BUSINESS_ACCOUNT_ID)' },
    senders: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['phoneNumberId'],
        properties: {
          phoneNumberId: { type: 'string', pattern: '^\\d+$' },
          displayPhoneNumber: { type: 'string' },
          accessTokenVariable: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'Environment variable holding this sender\'s token' },
        },
      },
    },
    requestTimeoutMs: { type: 'integer', minimum: 100, default: 10000 },
    maxSockets: { type: 'integer', minimum: 1, default: 64, description: 'Keep-alive connections per sender' },
    sendPolicies: {
      type: 'array', items: { type: 'string', pattern: '^[a-z][a-z0-9-]*\\.[a-z][a-z0-9.-]*@\\d+$' }, default: ['whatsapp.window@1'],
      description: 'Policy type ids every send must pass, in order (consent and rate-limit plugins add theirs)',
    },
    bulk: {
      type: 'object', additionalProperties: false, required: ['concurrency', 'leaseMs', 'maxRecipients', 'waitForDeferralMs'], default: {},
      properties: {
        concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
        leaseMs: { type: 'integer', minimum: 1000, default: 15000, description: 'A campaign whose runner stops renewing this lease is resumed by another process' },
        maxRecipients: { type: 'integer', minimum: 1, default: 10000 },
        waitForDeferralMs: { type: 'integer', minimum: 0, maximum: 60000, default: 2000, description: 'A recipient deferred by a policy for at most this long (a throughput limit) is waited for by the runner instead of scheduled' },
      },
    },
    retry: {
      type: 'object', additionalProperties: false, required: ['baseDelayMs', 'maxDelayMs', 'maxAttempts'], default: {},
      properties: {
        baseDelayMs: { type: 'integer', minimum: 0, default: 30000 },
        maxDelayMs: { type: 'integer', minimum: 0, default: 3600000 },
        maxAttempts: { type: 'integer', minimum: 1, default: 5 },
      },
    },
    webhook: {
      type: 'object', additionalProperties: false, required: ['processConcurrency', 'sweepEveryMs', 'retentionDays', 'pruneEvery'], default: {},
      properties: {
        processConcurrency: { type: 'integer', minimum: 1, default: 8 },
        sweepEveryMs: { type: 'integer', minimum: 1000, default: 30000, description: 'How often updates stored but not yet processed (a crash) are picked up' },
        retentionDays: {
          type: 'integer', minimum: 8, default: 30,
          description: 'Days a handled update is kept; it is what makes a redelivery a no-op, and Meta redelivers for up to 7 days',
        },
        pruneEvery: { type: 'string', minLength: 1, default: '6 hours', description: 'How often handled updates past retention are removed' },
      },
    },
  },
} as const;

export type WhatsappConfig = FromSchema<typeof whatsappConfigSchema>;
export const WhatsappConfigToken = Symbol.for('whatsapp.Config');

/** Environment variables that set settings; secrets are only ever read from here. */
export const whatsappEnvironment = {
  WHATSAPP_API_URL: 'apiUrl',
  WHATSAPP_API_VERSION: 'apiVersion',
  WHATSAPP_APP_SECRET: 'appSecret',
  WHATSAPP_VERIFY_TOKEN: 'verifyToken',
  WHATSAPP_ACCESS_TOKEN: 'accessToken',
  WHATSAPP_PHONE_NUMBER_ID: 'phoneNumberId',
  WHATSAPP_BUSINESS_ACCOUNT_ID: 'businessAccountId',
} as const;
