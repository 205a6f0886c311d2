import type { FromSchema } from 'json-schema-to-ts';

export const helloConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['salutation', 'blockedNames', 'tallyEvery'],
  properties: {
    salutation: { type: 'string', minLength: 1, default: 'Hello' },
    blockedNames: { type: 'array', items: { type: 'string' }, default: [] },
    tallyEvery: { type: 'string', default: '1 hour', description: 'How often the tally job announces the greeting count' },
  },
} as const;

export type HelloConfig = FromSchema<typeof helloConfigSchema>;
export const HelloConfigToken = Symbol.for('hello.Config');
