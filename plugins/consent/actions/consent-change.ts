import { inject, injectable, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import type { ConsentEvidence, ConsentSource } from '../models/consent.js';
import { phoneKey } from '../phone.js';
import { ConsentLedger } from '../services/consent-ledger.js';

export interface ConsentChangeInput { phone: string; source?: ConsentSource; evidence?: ConsentEvidence; at?: string }
export interface ConsentChangeOutput { phone: string; state: string; recorded: boolean; changeId: string }

/** Records one consent change under the step's idempotency key, so a retried step records it once. */
async function recordChange(ledger: ConsentLedger, state: 'opted_in' | 'opted_out', input: ConsentChangeInput, ctx: RunContext): Promise<ActionResult<ConsentChangeOutput>> {
  const phone = phoneKey(input.phone);
  if (ctx.simulate) return { output: { phone, state, recorded: false, changeId: 'simulated' } };
  const { consent, change, recorded } = await ledger.record({
    phone, state, source: input.source ?? 'keyword', idempotencyKey: ctx.idempotencyKey,
    evidence: { actor: `workflow:${ctx.workflowId}`, ...input.evidence }, ...(input.at ? { at: new Date(input.at) } : {}),
  });
  return { output: { phone, state: consent.state, recorded, changeId: change.id } };
}

/** `consent.revoke@1`: the contact opted out. */
@injectable()
export class RevokeAction implements Action<ConsentChangeInput, ConsentChangeOutput> {
  constructor(@inject(ConsentLedger) private readonly ledger: ConsentLedger) {}

  execute(input: ConsentChangeInput, ctx: RunContext): Promise<ActionResult<ConsentChangeOutput>> {
    return recordChange(this.ledger, 'opted_out', input, ctx);
  }
}

/** `consent.grant@1`: the contact opted in. */
@injectable()
export class GrantAction implements Action<ConsentChangeInput, ConsentChangeOutput> {
  constructor(@inject(ConsentLedger) private readonly ledger: ConsentLedger) {}

  execute(input: ConsentChangeInput, ctx: RunContext): Promise<ActionResult<ConsentChangeOutput>> {
    return recordChange(this.ledger, 'opted_in', input, ctx);
  }
}
