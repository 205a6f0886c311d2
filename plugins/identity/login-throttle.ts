/**
 * Failed sign-in counters in Redis, per account and per client address, each over a fixed
 * window. Past the limit, sign-in is refused (even with the right password) until the window ends.
 */
import { createHash } from 'node:crypto';
import { HttpError, inject, injectable, RedisConnection } from '../../core/index.js';
import { IdentityConfigToken, type IdentityConfig } from './config.js';

@injectable()
export class LoginThrottle {
  constructor(
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(IdentityConfigToken) private readonly config: IdentityConfig,
  ) {}

  private keys(email: string, ip: string): { account: string; address: string } {
    const prefix = `${this.redis.keyPrefix}identity:login-failures`;
    return { account: `${prefix}:account:${createHash('sha256').update(email).digest('hex')}`, address: `${prefix}:ip:${ip}` };
  }

  /** Throws 429 LOGIN_THROTTLED with Retry-After when either counter is at its limit. */
  async check(email: string, ip: string): Promise<void> {
    const { account, address } = this.keys(email, ip);
    const limits = this.config.loginThrottle;
    const [accountCount, addressCount] = (await this.redis.client.mget(account, address)).map((v) => Number(v ?? 0)) as [number, number];
    const blocked = accountCount >= limits.accountLimit ? { key: account, scope: 'account' } : addressCount >= limits.ipLimit ? { key: address, scope: 'ip' } : null;
    if (!blocked) return;
    const retryAfter = Math.max(1, await this.redis.client.ttl(blocked.key));
    throw new HttpError(429, 'LOGIN_THROTTLED', `Too many failed sign-ins for this ${blocked.scope === 'ip' ? 'address' : 'account'}; try again in ${retryAfter} s`,
      { scope: blocked.scope, retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const { account, address } = this.keys(email, ip);
    const window = this.config.loginThrottle.windowSeconds;
    // The window starts at the first failure: INCR keeps the expiry SET NX gave the key.
    await this.redis.client.multi()
      .set(account, 0, 'EX', window, 'NX').incr(account)
      .set(address, 0, 'EX', window, 'NX').incr(address)
      .exec();
  }

  async reset(email: string, ip: string): Promise<void> {
    await this.redis.client.del(this.keys(email, ip).account);
  }
}
