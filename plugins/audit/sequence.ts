/**
 * Sequence numbers for audit entries from one Redis counter, so any number of processes can
 * write at once. The number and its timestamp come from one script run, so timestamps never go
 * backwards as numbers go up, whatever the clocks of the writing processes say. Each number is
 * also listed as in flight until its entry is written, so the sealer never seals past it.
 */
import { inject, injectable, RedisConnection } from '../../core/index.js';

/** A number in flight longer than this belongs to a writer that died; the sealer stops waiting for it. */
export const IN_FLIGHT_LIMIT_MS = 60_000;

const ALLOCATE = `local seq = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000), seq)
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

  private get inFlightKey(): string {
    return `${this.redis.keyPrefix}audit:seq-in-flight`;
  }

  /** The next number and the Redis clock at the moment it was taken; call `settled` once written (or abandoned). */
  async next(): Promise<{ seq: number; at: Date }> {
    const [seq, seconds, micros] = await this.redis.client.eval(ALLOCATE, 2, this.key, this.inFlightKey) as [number, string, string];
    return { seq, at: new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)) };
  }

  async settled(seq: number): Promise<void> {
    await this.redis.client.zrem(this.inFlightKey, String(seq));
  }

  /** The lowest number still being written (ignoring writers that died), or null. */
  async lowestInFlight(now: Date): Promise<number | null> {
    const stale = now.getTime() - IN_FLIGHT_LIMIT_MS;
    await this.redis.client.zremrangebyscore(this.inFlightKey, '-inf', `(${stale}`);
    const members = await this.redis.client.zrange(this.inFlightKey, 0, -1);
    return members.length ? Math.min(...members.map(Number)) : null;
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
