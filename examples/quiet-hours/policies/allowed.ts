import { inject, injectable, type Policy, type PolicyCheck, type Verdict } from 'flowgate/sdk';
import { DeferralLog } from '../deferral-log.js';
import { QuietHours, type QuietWindow } from '../quiet-hours.js';

export const allowedConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    start: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'Overrides the plugin\'s start for this workflow' },
    end: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'Overrides the plugin\'s end for this workflow' },
  },
} as const;

/**
 * `quiet-hours.allowed@1`: defers a step addressed to a phone (`input.to`) while it is night in
 * that contact's time zone; the engine parks the execution and runs the step again at `until`,
 * when this policy is asked again. Steps without a `to` are not its business and are allowed.
 */
@injectable()
export class QuietHoursPolicy implements Policy<Partial<QuietWindow>> {
  constructor(@inject(QuietHours) private readonly quietHours: QuietHours, @inject(DeferralLog) private readonly log: DeferralLog) {}

  async check({ config, step, run }: PolicyCheck<Partial<QuietWindow>>): Promise<Verdict> {
    const to = (step.input as { to?: unknown } | null)?.to;
    if (typeof to !== 'string') return { decision: 'allow' };
    const state = this.quietHours.state(to, config);
    if (!state.quiet || !state.resumesAt) return { decision: 'allow' };
    const until = new Date(state.resumesAt);
    // A dry run shows the verdict but records and announces nothing.
    if (!run.simulate) {
      await this.log.record({ phone: to, timeZone: state.timeZone, until, workflowId: run.workflowId, executionId: run.executionId, stepId: run.stepId }, run.idempotencyKey);
    }
    return { decision: 'defer', code: 'QUIET_HOURS', reason: `quiet hours for ${state.timeZone} (local time ${state.localTime})`, until };
  }
}
