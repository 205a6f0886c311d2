/**
 * Runs the configured send policies (`sendPolicies` setting, in order) for sends that do not come
 * from a workflow, through the core's PolicyEvaluator, so consent and rate-limit policies of
 * other plugins slot in by type id. The first deny decides, else the latest defer.
 */
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, PolicyEvaluator, type RunContext, type Verdict } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import type { PolicyDecision } from '../models/message.js';

export interface PolicyOutcome {
  verdict: Verdict;
  decisions: PolicyDecision[];
}

@injectable()
export class SendPolicies {
  constructor(
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
    @inject(PolicyEvaluator) private readonly evaluator: PolicyEvaluator,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /** `input` has the `whatsapp.send@1` input shape. Throws UNKNOWN_POLICY when a configured policy is not loaded. */
  async evaluate(input: Record<string, unknown>, context: { key: string; signal?: AbortSignal }): Promise<PolicyOutcome> {
    const run: RunContext = {
      executionId: `api:${context.key}`, workflowId: 'api', stepId: 'send', idempotencyKey: context.key, simulate: false, attempt: 1,
      logger: this.logger, signal: context.signal ?? new AbortController().signal,
    };
    const outcome = await this.evaluator.evaluate(this.config.sendPolicies.map((type) => ({ type })), { id: 'send', action: 'whatsapp.send@1', input }, run);
    return {
      verdict: outcome.verdict,
      decisions: outcome.decisions.map((d) => ({
        policy: d.policy, decision: d.decision, ...(d.code ? { code: d.code } : {}), ...(d.reason ? { reason: d.reason } : {}), ...(d.until ? { until: new Date(d.until) } : {}),
      })),
    };
  }
}
