import { injectable, type Trigger } from '../../../core/index.js';

export const eventPayloadSchema = {
  type: 'object',
  required: ['name', 'data'],
  properties: { name: { type: 'string' }, data: { type: 'object' } },
} as const;

/** `flow.event@1`: matches internal events by name. */
@injectable()
export class EventTrigger implements Trigger<{ name: string }> {
  matches(config: Readonly<{ name: string }>, payload: unknown): boolean {
    return (payload as { name?: unknown }).name === config.name;
  }
}
