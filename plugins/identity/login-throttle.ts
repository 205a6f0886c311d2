/**
 * Sign-in attempt counters in Redis, per account and per client address, each over a fixed
 * window that starts at the first attempt. An attempt is counted before its password is checked,
 * in one atomic step with the limit check, so guesses sent in parallel cannot all pass the check
 * while the slow scrypt runs; a successful sign-in gives its attempt back. Past the limit,
 * sign-in is refused (even with the right password) until the window ends.
 */
import { createHash } from 'node:crypto';
import { HttpError, inject, injectable, RedisConnection } from '../../core/index.js';
import { IdentityConfigToken, type IdentityConfig } from './config.js';

/**
 * KEYS: account, address counters; ARGV: window seconds, account limit, address limit. Returns
 * the index (1, 2) of a counter at its limit, counting nothing, or 0 after counting on both.
 * SET NX gives a new counter its window; INCR keeps it.
 */
const TAKE_ATTEMPT = `
for i = 1, 2 do
  if tonumber(redis.call('get', KEYS[i]) or '0') >= tonumber(ARGV[i + 1]) then return i end
end
for i = 1, 2 do
  redis.call('set', KEYS[i], 0, 'EX', ARGV[1], 'NX')
  redis.call('incr', KEYS[i])
end
return 0`;

/**
 * KEYS: account, address counters. Clears the account's counter and gives the attempt back to
 * the address (a decrement only while the counter exists: one created here would have no expiry).
 */
const SUCCEEDED = `
redis.call('del', KEYS[1])
if redis.call('exists', KEYS[2]) == 1 then redis.call('decr', KEYS[2]) end`;

@injectable()
export class LoginThrottle {
  constructor(
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(IdentityConfigToken) private readonly config: IdentityConfig,
  ) {}

  private keys(email: string, ip: string): [account: string, address: string] {
    const prefix = `${this.redis.keyPrefix}identity:login-attempts`;
    return [`${prefix}:account:${createHash('sha256').update(email).digest('hex')}`, `${prefix}:ip:${ip}`];
  }

  /** Counts one attempt before its password is checked; throws 429 LOGIN_THROTTLED with Retry-After when either counter is at its limit. */
  async attempt(email: string, ip: string): Promise<void> {
    const keys = this.keys(email, ip);
    const limits = this.config.loginThrottle;
    const blocked = await this.redis.client.eval(TAKE_ATTEMPT, 2, ...keys, String(limits.windowSeconds), String(limits.accountLimit), String(limits.ipLimit)) as number;
    if (blocked === 0) return;
    const scope = blocked === 1 ? 'account' : 'ip';
    const retryAfter = Math.max(1, await this.redis.client.ttl(keys[blocked - 1] as string));
    throw new HttpError(429, 'LOGIN_THROTTLED', `Too many failed sign-ins for this ${scope === 'ip' ? 'address' : 'account'}; try again in ${retryAfter} s`,
      { scope, retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
  }

  /** After the right password: the account's failures are forgiven, and the attempt no longer counts against the address. */
  async succeeded(email: string, ip: string): Promise<void> {
    await this.redis.client.eval(SUCCEEDED, 2, ...this.keys(email, ip));
  }
}
