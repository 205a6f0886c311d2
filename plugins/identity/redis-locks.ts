/** Short cross-process locks in Redis, for the few changes MongoDB-protocol storage cannot serialise here. */
import { HttpError, inject, injectable, RedisConnection } from '../../core/index.js';

@injectable()
export class RedisLocks {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection) {}

  /**
   * Runs `work` while holding `name`, waiting up to `waitMs` for it; throws 503 LOCK_BUSY when it
   * stays taken. The lock expires after `holdMs` in case its holder dies.
   */
  async around<T>(name: string, work: () => Promise<T>, { waitMs = 5_000, holdMs = 10_000 } = {}): Promise<T> {
    const deadline = Date.now() + waitMs;
    let lock = await this.redis.tryLock(`${name}:lock`, holdMs);
    while (!lock) {
      if (Date.now() > deadline) throw new HttpError(503, 'LOCK_BUSY', 'Another change to the same thing is in progress; try again');
      await new Promise((r) => setTimeout(r, 20));
      lock = await this.redis.tryLock(`${name}:lock`, holdMs);
    }
    try {
      return await work();
    } finally {
      await lock.release();
    }
  }
}
