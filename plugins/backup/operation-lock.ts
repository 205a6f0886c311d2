/**
 * One backup or restore at a time across every process: a Redis key set with NX and a short
 * expiry that the holder keeps extending. A process that dies holding it frees it when the
 * expiry passes (`lockTtlMs`).
 */
import { randomUUID } from 'node:crypto';
import { inject, injectable, HttpError, RedisConnection } from '../../core/index.js';
import { BackupConfigToken, type BackupConfig } from './config.js';

const EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export interface HeldLock {
  release(): Promise<void>;
}

@injectable()
export class OperationLock {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection, @inject(BackupConfigToken) private readonly config: BackupConfig) {}

  private get key(): string {
    return `${this.redis.keyPrefix}backup:lock`;
  }

  /** Takes the lock for `what` or throws 409 BACKUP_IN_PROGRESS naming what holds it. */
  async acquire(what: string): Promise<HeldLock> {
    const token = `${randomUUID()} ${what}`;
    const ttl = this.config.lockTtlMs;
    const taken = await this.redis.client.set(this.key, token, 'PX', ttl, 'NX');
    if (taken !== 'OK') {
      const holder = (await this.redis.client.get(this.key))?.split(' ').slice(1).join(' ') ?? 'another operation';
      throw new HttpError(409, 'BACKUP_IN_PROGRESS', `Another backup or restore is running (${holder}); try again when it has finished`, { holder });
    }
    const timer = setInterval(() => void this.redis.client.eval(EXTEND, 1, this.key, token, String(ttl)).catch(() => undefined), Math.max(200, Math.floor(ttl / 3)));
    timer.unref();
    return {
      release: async () => {
        clearInterval(timer);
        await this.redis.client.eval(RELEASE, 1, this.key, token);
      },
    };
  }
}
