import { inject, injectable, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import { Greeter } from '../greeter.js';
import type { GreetingView } from '../schemas.js';

/** `hello.greet@1`: idempotent, because the greeting is stored under the step's idempotency key. */
@injectable()
export class GreetAction implements Action<{ name: string }, GreetingView> {
  constructor(@inject(Greeter) private readonly greeter: Greeter) {}

  async execute(input: { name: string }, ctx: RunContext): Promise<ActionResult<GreetingView>> {
    if (ctx.simulate) {
      return { output: { id: 'simulated', name: input.name, text: `(would greet ${input.name})`, idempotencyKey: ctx.idempotencyKey, createdAt: new Date().toISOString() } };
    }
    const { greeting } = await this.greeter.greet(input.name, ctx.idempotencyKey);
    return { output: greeting };
  }
}
