/**
 * Sequence numbers for audit entries from one Redis counter, so any number of processes can
 * write at once. The number and its timestamp come from one script run, so timestamps never go
 * backwards as numbers go up, whatever the clocks of the writing processes say. Each number is
 * also listed as in flight until its entry is written, so the sealer never seals past it.
 *
 * A missing counter means Redis lost its data: no number is handed out until the writer has
 * raised the counter past every number the database knows (see AuditLog.resyncSequence), since
 * a number at or below the last sealed one would never be sealed.
 */
import { inject, injectable, RedisConnection } from '../../core/index.js';

/** A number in flight longer than this belongs to a writer that died; the sealer stops waiting for it. */
export const IN_FLIGHT_LIMIT_MS = 60_000;

const ALLOCATE = `if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local seq = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], t[1] * 1000 + math.floor(t[2] / 1000), seq)
return {seq, t[1], t[2]}`;
const RAISE_TO = `local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;
// The counter is read in the same script as the in-flight set: a number taken after this ran is
// above the counter, one taken before is either still listed or already written.
const UNSETTLED = `redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
local lowest = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if tonumber(member) < lowest then lowest = tonumber(member) end
end
return lowest`;

@injectable()
export class AuditSequence {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection) {}

  private get key(): string {
    return `${this.redis.keyPrefix}audit:seq`;
  }

  private get inFlightKey(): string {
    return `${this.redis.keyPrefix}audit:seq-in-flight`;
  }

  /**
   * The next number and the Redis clock at the moment it was taken; call `settled` once written
   * (or abandoned). Null when the counter is gone: raise it with `raiseTo` first.
   */
  async next(): Promise<{ seq: number; at: Date } | null> {
    const taken = await this.redis.client.eval(ALLOCATE, 2, this.key, this.inFlightKey) as [number, string, string] | null;
    if (!taken) return null;
    const [seq, seconds, micros] = taken;
    return { seq, at: new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)) };
  }

  async settled(seq: number): Promise<void> {
    await this.redis.client.zrem(this.inFlightKey, String(seq));
  }

  /**
   * The lowest number whose entry may still be written: the lowest one in flight (ignoring writers
   * that died) or else the next one to be taken. Everything below it that exists can be sealed.
   */
  async lowestInFlight(now: Date): Promise<number> {
    const stale = now.getTime() - IN_FLIGHT_LIMIT_MS;
    return Number(await this.redis.client.eval(UNSETTLED, 2, this.key, this.inFlightKey, String(stale)));
  }

  /** The Redis clock, which the sealer compares entry timestamps with. */
  async now(): Promise<Date> {
    const [seconds, micros] = await this.redis.client.time();
    return new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
  }

  /** Makes sure the counter exists and is at least `seq` (after Redis lost its data, or a restore). */
  async raiseTo(seq: number): Promise<void> {
    await this.redis.client.eval(RAISE_TO, 1, this.key, String(seq));
  }
}
