import { inject, injectable, WorkflowEventsToken, type Action, type ActionResult, type RunContext, type WorkflowEvents } from '../../../core/index.js';

export const emitInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+$' }, data: { type: 'object' } },
} as const;

/**
 * `flow.emit@1`: the event's source id is the step's idempotency key, so a retried step
 * emits nothing twice.
 */
@injectable()
export class EmitAction implements Action<{ name: string; data?: Record<string, unknown> }, { eventId: string; duplicate: boolean }> {
  constructor(@inject(WorkflowEventsToken) private readonly events: WorkflowEvents) {}

  async execute(input: { name: string; data?: Record<string, unknown> }, ctx: RunContext): Promise<ActionResult<{ eventId: string; duplicate: boolean }>> {
    if (ctx.simulate) return { output: { eventId: 'simulated', duplicate: false } };
    const submitted = await this.events.submit({ type: 'flow.event@1', sourceId: ctx.idempotencyKey, payload: { name: input.name, data: input.data ?? {} } });
    return { output: { eventId: submitted.eventId, duplicate: submitted.duplicate } };
  }
}
