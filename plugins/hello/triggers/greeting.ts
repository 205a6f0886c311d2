import { injectable, type Trigger } from '../../../core/index.js';

export const greetingEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'greetingId'],
  properties: { name: { type: 'string' }, greetingId: { type: 'string' } },
} as const;

/** `hello.greeting@1`: a workflow can react to greetings, optionally only for one name. */
@injectable()
export class GreetingTrigger implements Trigger<{ name?: string }> {
  matches(config: Readonly<{ name?: string }>, payload: unknown): boolean {
    return config.name === undefined || (payload as { name?: string }).name === config.name;
  }
}
