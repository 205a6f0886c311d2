import { inject, injectable, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import { AuditLog } from '../audit-log.js';
import type { RecordInput } from '../schemas.js';

/**
 * `audit.record@1`: a workflow step that writes one entry, with the execution as actor. The
 * step's idempotency key makes a retried step write nothing more.
 */
@injectable()
export class RecordAction implements Action<RecordInput, { id: string; seq: number; simulated?: boolean }> {
  constructor(@inject(AuditLog) private readonly log: AuditLog) {}

  async execute(input: RecordInput, ctx: RunContext): Promise<ActionResult<{ id: string; seq: number; simulated?: boolean }>> {
    if (ctx.simulate) return { output: { id: 'simulated', seq: 0, simulated: true } };
    const subject = input.subject?.phone ? { kind: 'phone' as const, value: input.subject.phone }
      : input.subject?.customerId ? { kind: 'customer' as const, value: input.subject.customerId } : undefined;
    const entry = await this.log.record({
      actor: { kind: 'workflow', id: ctx.executionId, workflowId: ctx.workflowId },
      action: input.action,
      resource: input.resource,
      subject,
      after: input.details,
      idempotencyKey: ctx.idempotencyKey,
    });
    return { output: { id: entry.id, seq: entry.seq } };
  }
}
