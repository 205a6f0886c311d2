/**
 * Keeps at least one active owner. Changes that take the owner role away from someone run one
 * at a time across processes (a Redis lock), so two admins demoting the last two owners at once
 * cannot both succeed.
 */
import type { Model } from 'mongoose';
import { HttpError, inject, injectable } from '../../core/index.js';
import { UserModel, type User } from './models/user.js';
import { RedisLocks } from './redis-locks.js';

@injectable()
export class OwnerGuard {
  constructor(
    @inject(UserModel.token) private readonly users: Model<User>,
    @inject(RedisLocks) private readonly locks: RedisLocks,
  ) {}

  /** Runs `change` (which removes owner `userId`) only if another active owner remains; else 409 LAST_OWNER. */
  async whileAnotherOwnerRemains<T>(userId: string, change: () => Promise<T>): Promise<T> {
    return this.locks.around('identity:owners', async () => {
      const others = await this.users.countDocuments({ role: 'owner', status: 'active', _id: { $ne: userId } });
      if (others === 0) throw new HttpError(409, 'LAST_OWNER', 'This is the last active owner: make someone else owner first');
      return change();
    });
  }
}
