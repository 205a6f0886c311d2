import { inject, injectable, type Policy, type PolicyCheck, type Verdict } from '../../../core/index.js';
import { Greeter } from '../greeter.js';

/** `hello.name-allowed@1`: denies a step whose input names someone on the block list. */
@injectable()
export class NameAllowedPolicy implements Policy {
  constructor(@inject(Greeter) private readonly greeter: Greeter) {}

  async check({ step }: PolicyCheck): Promise<Verdict> {
    const name = (step.input as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && this.greeter.isBlocked(name)) {
      return { decision: 'deny', code: 'HELLO_NAME_BLOCKED', reason: `${name} is on the block list` };
    }
    return { decision: 'allow' };
  }
}
