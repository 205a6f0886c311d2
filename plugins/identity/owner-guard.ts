/**
 * Keeps at least one active owner. Changes that take the owner role away from someone run one
 * at a time across processes (a Redis lock), so two admins demoting the last two owners at once
 * cannot both succeed.
 */
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { HttpError, inject, injectable, RedisConnection } from '../../core/index.js';
import { UserModel, type User } from './models/user.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

@injectable()
export class OwnerGuard {
  constructor(
    @inject(UserModel.token) private readonly users: Model<User>,
    @inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  /** Runs `change` (which removes owner `userId`) only if another active owner remains; else 409 LAST_OWNER. */
  async whileAnotherOwnerRemains<T>(userId: string, change: () => Promise<T>): Promise<T> {
    const key = `${this.redis.keyPrefix}identity:owner-lock`;
    const token = randomUUID();
    const deadline = Date.now() + 5_000;
    while (await this.redis.client.set(key, token, 'PX', 10_000, 'NX') !== 'OK') {
      if (Date.now() > deadline) throw new HttpError(503, 'OWNER_CHANGE_BUSY', 'Another owner change is in progress; try again');
      await new Promise((r) => setTimeout(r, 25));
    }
    try {
      const others = await this.users.countDocuments({ role: 'owner', status: 'active', _id: { $ne: userId } });
      if (others === 0) throw new HttpError(409, 'LAST_OWNER', 'This is the last active owner: make someone else owner first');
      return await change();
    } finally {
      await this.redis.client.eval(RELEASE, 1, key, token);
    }
  }
}
