import type { FromSchema } from 'json-schema-to-ts';

const clockTime = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } as const;

/** `pluginSettings["quiet-hours"]`: validated (and defaults filled in) by the core before register() runs. */
export const quietHoursConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['start', 'end', 'defaultTimeZone', 'timeZones', 'retentionDays', 'notifyTimeoutMs'],
  properties: {
    start: { ...clockTime, default: '21:00', description: 'Local time at which quiet hours begin' },
    end: { ...clockTime, default: '08:00', description: 'Local time at which sending resumes' },
    defaultTimeZone: { type: 'string', minLength: 1, default: 'UTC', description: 'IANA zone for numbers no prefix below matches' },
    timeZones: {
      type: 'object', default: {},
      description: 'Phone-number prefix (digits, country code first) → IANA time zone; the longest matching prefix wins',
      propertyNames: { pattern: '^[0-9]{1,8}$' },
      additionalProperties: { type: 'string', minLength: 1 },
    },
    retentionDays: { type: 'integer', minimum: 1, maximum: 3650, default: 30, description: 'How long deferral records are kept' },
    notifyUrl: { type: 'string', pattern: '^https?://', description: 'Default target of quiet-hours.notify@1 when a step gives no url' },
    notifySecret: { type: 'string', minLength: 16, description: 'HMAC key signing notifications; set it through QUIET_HOURS_NOTIFY_SECRET, never in a file' },
    notifyTimeoutMs: { type: 'integer', minimum: 100, maximum: 60000, default: 5000 },
  },
} as const;

export type QuietHoursConfig = FromSchema<typeof quietHoursConfigSchema>;
export const QuietHoursConfigToken = Symbol.for('quiet-hours.Config');
