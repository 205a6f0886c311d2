/**
 * One backup or restore at a time across every process: the core's Redis lock, which the holder
 * keeps extending while it works. A process that dies holding it frees it when the hold passes
 * (`lockTtlMs`).
 */
import { inject, injectable, HttpError, RedisConnection } from '../../core/index.js';
import { BackupConfigToken, type BackupConfig } from './config.js';

const LOCK = 'backup:lock';

export interface HeldLock {
  release(): Promise<void>;
}

@injectable()
export class OperationLock {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection, @inject(BackupConfigToken) private readonly config: BackupConfig) {}

  /** Takes the lock for `what` or throws 409 BACKUP_IN_PROGRESS naming what holds it. */
  async acquire(what: string): Promise<HeldLock> {
    const ttl = this.config.lockTtlMs;
    const lock = await this.redis.tryLock(LOCK, ttl, what);
    if (!lock) {
      const holder = (await this.redis.lockHolder(LOCK)) || 'another operation';
      throw new HttpError(409, 'BACKUP_IN_PROGRESS', `Another backup or restore is running (${holder}); try again when it has finished`, { holder });
    }
    const timer = setInterval(() => void lock.extend(ttl).catch(() => undefined), Math.max(200, Math.floor(ttl / 3)));
    timer.unref();
    return {
      release: async () => {
        clearInterval(timer);
        await lock.release();
      },
    };
  }
}
