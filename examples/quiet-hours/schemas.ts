import type { FromSchema } from 'json-schema-to-ts';

const isoTime = { type: 'string', format: 'date-time' } as const;

/** Whether a phone is inside its quiet hours now: the answer of GET /api/quiet-hours/check. */
export const quietStateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['phone', 'timeZone', 'localTime', 'quiet', 'resumesAt'],
  properties: {
    phone: { type: 'string' },
    timeZone: { type: 'string', description: 'IANA zone the phone number maps to' },
    localTime: { type: 'string', pattern: '^\\d\\d:\\d\\d$', description: 'The contact\'s wall-clock time now' },
    quiet: { type: 'boolean' },
    resumesAt: { oneOf: [isoTime, { type: 'null' }], description: 'When sending may resume; null outside quiet hours' },
  },
} as const;
export type QuietState = FromSchema<typeof quietStateSchema>;

/**
 * One deferred step: stored, published on the `quiet-hours` topic as `quiet-hours.deferred`,
 * and the payload of the `quiet-hours.deferred@1` trigger.
 */
export const deferralSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'phone', 'timeZone', 'until', 'workflowId', 'executionId', 'stepId', 'createdAt'],
  properties: {
    id: { type: 'string' },
    phone: { type: 'string' },
    timeZone: { type: 'string' },
    until: { ...isoTime, description: 'When the step runs again' },
    workflowId: { type: 'string' },
    executionId: { type: 'string' },
    stepId: { type: 'string' },
    createdAt: isoTime,
  },
} as const;
export type DeferralView = FromSchema<typeof deferralSchema>;
