/**
 * Runs policies in order before a step. The first deny decides; otherwise the latest defer
 * decides; otherwise the step is allowed. Every decision is returned so it can be recorded,
 * which is what makes "why was this not sent?" answerable.
 */
import { inject, injectable } from 'inversify';
import type { Container } from 'inversify';
import type { Policy, RunContext, Verdict } from '../plugin-api.js';
import { Contributions } from '../plugins/contributions.js';
import { CoreError } from '../errors.js';
import type { PolicyDecisionRecord } from './models.js';
import type { CompiledPolicy } from './workflow-compiler.js';
import type { PolicyRef } from './workflow-schema.js';
import { ContainerToken } from '../tokens.js';

export interface PolicyOutcome {
  verdict: Verdict;
  decisions: PolicyDecisionRecord[];
}

export interface GuardedStep {
  id: string;
  action: string;
  input: unknown;
}

@injectable()
export class PolicyEvaluator {
  constructor(
    @inject(Contributions) private readonly contributions: Contributions,
    @inject(ContainerToken) private readonly container: Container,
  ) {}

  /** Whether a loaded plugin provides the policy `type` (`plugin.name@version`). */
  provides(type: string): boolean {
    return this.contributions.policies.get(type) !== undefined;
  }

  /** Evaluates policies named by type id (for callers outside workflows, e.g. a send route). */
  async evaluate(refs: readonly PolicyRef[], step: GuardedStep, run: RunContext): Promise<PolicyOutcome> {
    const compiled = refs.map((ref) => {
      const registered = this.contributions.policies.get(ref.type);
      if (!registered) throw new CoreError('UNKNOWN_POLICY', `No plugin provides the policy ${ref.type}`);
      return { ref, registered };
    });
    return this.run(compiled, step, run);
  }

  async run(policies: readonly CompiledPolicy[], step: GuardedStep, run: RunContext): Promise<PolicyOutcome> {
    const decisions: PolicyDecisionRecord[] = [];
    let deferral: Extract<Verdict, { decision: 'defer' }> | null = null;
    for (const { ref, registered } of policies) {
      const policy = this.container.get<Policy>(registered.contribution.impl);
      const verdict = await policy.check({ config: ref.config ?? {}, step, run });
      decisions.push({
        policy: registered.id, decision: verdict.decision,
        ...(verdict.decision !== 'allow' ? { code: verdict.code, reason: verdict.reason } : {}),
        ...(verdict.decision === 'defer' ? { until: verdict.until } : {}),
      });
      if (verdict.decision === 'deny') return { verdict, decisions };
      if (verdict.decision === 'defer' && (!deferral || verdict.until > deferral.until)) deferral = verdict;
    }
    return { verdict: deferral ?? { decision: 'allow' }, decisions };
  }
}
