/**
 * Sequence numbers for audit entries from one Redis counter, so any number of processes can
 * write at once. The number and its timestamp come from one script run, so timestamps never go
 * backwards as numbers go up, whatever the clocks of the writing processes say.
 */
import { inject, injectable, RedisConnection } from '../../core/index.js';

const ALLOCATE = `local seq = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
return {seq, t[1], t[2]}`;
const RAISE_TO = `local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

@injectable()
export class AuditSequence {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection) {}

  private get key(): string {
    return `${this.redis.keyPrefix}audit:seq`;
  }

  /** The next number and the Redis clock at the moment it was taken. */
  async next(): Promise<{ seq: number; at: Date }> {
    const [seq, seconds, micros] = await this.redis.client.eval(ALLOCATE, 1, this.key) as [number, string, string];
    return { seq, at: new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)) };
  }

  /** The Redis clock, which the sealer compares entry timestamps with. */
  async now(): Promise<Date> {
    const [seconds, micros] = await this.redis.client.time();
    return new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
  }

  /** Makes sure the counter is past `seq` (after Redis lost its data, or a restore). */
  async raiseTo(seq: number): Promise<void> {
    await this.redis.client.eval(RAISE_TO, 1, this.key, String(seq));
  }
}
