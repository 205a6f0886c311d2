import type { FromSchema } from 'json-schema-to-ts';

export const greetingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'text', 'idempotencyKey', 'createdAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    text: { type: 'string' },
    idempotencyKey: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export type GreetingView = FromSchema<typeof greetingSchema>;
