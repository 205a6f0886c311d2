/**
 * "May we message this phone now, and if not, why?": every send policy evaluated on its own (so
 * the answer lists them all, not only the first refusal), then combined the way the engine
 * combines them — the first deny decides, else the latest defer, else allow.
 */
import type { Logger } from 'winston';
import { CoreError, inject, injectable, LoggerToken, PolicyEvaluator, type RunContext } from '../../../core/index.js';

/** Policies the check runs, in order; a policy whose plugin is not loaded is reported as such. */
export const CHECKED_POLICIES = ['consent.not-blocked@1', 'consent.required@1', 'template.approved@1', 'whatsapp.window@1', 'rate.limit@1'] as const;

/** The template a check is about, when the caller names one: its approval is then checked too. */
export interface CheckedTemplate { name: string; language: string }

export interface CheckDecision { policy: string; decision: 'allow' | 'deny' | 'defer' | 'not-loaded'; code?: string; reason?: string; until?: string }
export interface CheckResult { phone: string; category: string; allowed: boolean; decision: 'allow' | 'deny' | 'defer'; decidedBy: string | null; reason: string; decisions: CheckDecision[] }

@injectable()
export class ComplianceCheck {
  constructor(@inject(PolicyEvaluator) private readonly evaluator: PolicyEvaluator, @inject(LoggerToken) private readonly logger: Logger) {}

  async check(phone: string, category: string, from?: string, template?: CheckedTemplate): Promise<CheckResult> {
    // A non-service category means a template (the only thing allowed outside the 24-hour window);
    // without a named one, a placeholder stands in and template approval is not part of the answer.
    const input = { to: phone, category, ...(from ? { from } : {}), ...(category === 'service' ? { text: '-' } : { template: template ?? { name: 'compliance_check', language: 'en' } }) };
    const policies = CHECKED_POLICIES.filter((type) => type !== 'template.approved@1' || (template && category !== 'service'));
    const run: RunContext = {
      executionId: 'compliance-check', workflowId: 'api', stepId: 'check', idempotencyKey: 'compliance-check', simulate: true, attempt: 1,
      logger: this.logger, signal: new AbortController().signal,
    };
    const decisions: CheckDecision[] = [];
    for (const type of policies) {
      try {
        const { decisions: [d] } = await this.evaluator.evaluate([{ type, ...(type === 'consent.required@1' ? { config: { category } } : {}) }], { id: 'check', action: 'whatsapp.send@1', input }, run);
        if (d) decisions.push({ policy: d.policy, decision: d.decision, ...(d.code ? { code: d.code } : {}), ...(d.reason ? { reason: d.reason } : {}), ...(d.until ? { until: new Date(d.until).toISOString() } : {}) });
      } catch (error) {
        if (!(error instanceof CoreError) || error.code !== 'UNKNOWN_POLICY') throw error;
        decisions.push({ policy: type, decision: 'not-loaded', reason: 'No loaded plugin provides this policy' });
      }
    }
    const deny = decisions.find((d) => d.decision === 'deny');
    const defer = decisions.filter((d) => d.decision === 'defer').sort((a, b) => (b.until ?? '').localeCompare(a.until ?? ''))[0];
    const decisive = deny ?? defer;
    return {
      phone, category, allowed: !decisive, decision: decisive ? (decisive.decision as 'deny' | 'defer') : 'allow', decidedBy: decisive?.policy ?? null,
      reason: decisive?.reason ?? 'Every loaded policy allows it', decisions,
    };
  }
}
