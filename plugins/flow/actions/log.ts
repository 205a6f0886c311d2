import { injectable, type Action, type ActionResult, type RunContext } from '../../../core/index.js';

export const logInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['message'],
  properties: { message: { type: 'string', maxLength: 10000 }, level: { enum: ['info', 'warn', 'error'], default: 'info' }, data: { type: 'object' } },
} as const;

/** `flow.log@1`: a structured log line tagged with the execution and step. */
@injectable()
export class LogAction implements Action<{ message: string; level?: 'info' | 'warn' | 'error'; data?: Record<string, unknown> }, { message: string }> {
  async execute(input: { message: string; level?: 'info' | 'warn' | 'error'; data?: Record<string, unknown> }, ctx: RunContext): Promise<ActionResult<{ message: string }>> {
    if (!ctx.simulate) ctx.logger.log(input.level ?? 'info', input.message, { workflowLog: true, data: input.data });
    return { output: { message: input.message } };
  }
}
