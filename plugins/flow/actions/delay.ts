import { inject, injectable, EngineClock, RedisConnection, StepDeferral, StepError, type Action, type ActionResult, type RunContext } from '../../../core/index.js';

export const delayInputSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ms: { type: 'integer', minimum: 1, maximum: 2592000000, description: 'How long to wait' },
    until: { type: 'string', format: 'date-time', description: 'Or: when to continue' },
  },
  oneOf: [{ required: ['ms'] }, { required: ['until'] }],
} as const;

/**
 * `flow.delay@1`: the first run fixes the wake-up time under the step's idempotency key and
 * defers; the engine parks the execution and runs the step again then, which lets it pass.
 */
@injectable()
export class DelayAction implements Action<{ ms?: number; until?: string }, { resumedAt: string }> {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection, @inject(EngineClock) private readonly clock: EngineClock) {}

  async execute(input: { ms?: number; until?: string }, ctx: RunContext): Promise<ActionResult<{ resumedAt: string }>> {
    const now = this.clock.now();
    if (ctx.simulate) return { output: { resumedAt: now.toISOString() } };
    const requested = input.until ? new Date(input.until) : new Date(now.getTime() + (input.ms ?? 0));
    if (Number.isNaN(requested.getTime())) throw new StepError('DELAY_INVALID', 'until is not a date');
    const key = `${this.redis.keyPrefix}delay:${ctx.idempotencyKey}`;
    await this.redis.client.set(key, String(requested.getTime()), 'PX', Math.max(60_000, requested.getTime() - now.getTime() + 86_400_000), 'NX');
    const until = new Date(Number(await this.redis.client.get(key) ?? requested.getTime()));
    if (until > now) throw new StepDeferral(until, 'DELAY', `waiting until ${until.toISOString()}`);
    return { output: { resumedAt: now.toISOString() } };
  }
}
