/** Short cross-process locks in Redis, for the few changes MongoDB-protocol storage cannot serialise here. */
import { randomUUID } from 'node:crypto';
import { HttpError, inject, injectable, RedisConnection } from '../../core/index.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

@injectable()
export class RedisLocks {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection) {}

  /**
   * Runs `work` while holding `name`, waiting up to `waitMs` for it; throws 503 LOCK_BUSY when it
   * stays taken. The lock expires after `holdMs` in case its holder dies.
   */
  async around<T>(name: string, work: () => Promise<T>, { waitMs = 5_000, holdMs = 10_000 } = {}): Promise<T> {
    const key = `${this.redis.keyPrefix}${name}:lock`;
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    while (await this.redis.client.set(key, token, 'PX', holdMs, 'NX') !== 'OK') {
      if (Date.now() > deadline) throw new HttpError(503, 'LOCK_BUSY', 'Another change to the same thing is in progress; try again');
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      return await work();
    } finally {
      await this.redis.client.eval(RELEASE, 1, key, token);
    }
  }
}
