/**
 * Runs the configured send policies (`sendPolicies` setting, in order) for sends that do not come
 * from a workflow: the first deny or defer decides. Policies are looked up by type id in the
 * policies this plugin contributes; policies of other plugins need the core's policy evaluator.
 */
import type { Logger } from 'winston';
import { CoreError, inject, injectable, LoggerToken, type Policy, type RunContext, type Verdict } from '../../../core/index.js';
import { WhatsappConfigToken, type WhatsappConfig } from '../config.js';
import type { PolicyDecision } from '../models/message.js';
import { WindowPolicy } from '../policies/window.js';

export interface PolicyOutcome {
  verdict: Verdict;
  /** The policy that denied or deferred, when one did. */
  decidedBy?: string;
  decisions: PolicyDecision[];
}

@injectable()
export class SendPolicies {
  private readonly known: ReadonlyMap<string, Policy>;

  constructor(
    @inject(WhatsappConfigToken) private readonly config: WhatsappConfig,
    @inject(WindowPolicy) window: WindowPolicy,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {
    this.known = new Map<string, Policy>([['whatsapp.window@1', window]]);
  }

  /** Fails boot when a configured policy cannot be evaluated, rather than sending unguarded. */
  assertConfigured(): void {
    const missing = this.config.sendPolicies.filter((id) => !this.known.has(id));
    if (missing.length) {
      throw new CoreError('WHATSAPP_POLICY_UNKNOWN', `pluginSettings.whatsapp.sendPolicies names ${missing.join(', ')}, which this plugin cannot evaluate yet`, { missing });
    }
  }

  async evaluate(input: Record<string, unknown>, context: { key: string; signal?: AbortSignal }): Promise<PolicyOutcome> {
    const run: RunContext = {
      executionId: `api:${context.key}`, workflowId: 'api', stepId: 'send', idempotencyKey: context.key, simulate: false, attempt: 1,
      logger: this.logger, signal: context.signal ?? new AbortController().signal,
    };
    const decisions: PolicyDecision[] = [];
    for (const id of this.config.sendPolicies) {
      const policy = this.known.get(id);
      if (!policy) throw new CoreError('WHATSAPP_POLICY_UNKNOWN', `Send policy ${id} is not available`);
      const verdict = await policy.check({ config: {}, step: { id: 'send', action: 'whatsapp.send@1', input }, run });
      decisions.push({ policy: id, decision: verdict.decision, ...(verdict.decision === 'allow' ? {} : { code: verdict.code, reason: verdict.reason }), ...(verdict.decision === 'defer' ? { until: verdict.until } : {}) });
      if (verdict.decision !== 'allow') return { verdict, decidedBy: id, decisions };
    }
    return { verdict: { decision: 'allow' }, decisions };
  }
}
