/**
 * One lock per outbound message, keyed by its `_id`. FerretDB v1 does not isolate a
 * check-then-write of one document (its conditional updates are a read and a write, and
 * concurrent writers both pass the check), so on FerretDB every change of a message's status
 * that depends on the status it read takes this lock: the claim for sending, a deferral or a
 * denial of a stored message, a cancel, the recording of a send's answer and a provider status.
 * On MongoDB those changes are conditional updates, atomic on their own, and take no lock.
 */
import type { Types } from 'mongoose';
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, MongoConnection, RedisConnection, type RedisLock } from '../../../core/index.js';

/** How long a change may hold a message's lock, and how long another waits for it. */
const MESSAGE_LOCK_MS = 10_000;

@injectable()
export class MessageLocks {
  constructor(
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /**
   * Runs `change` holding the message's lock on FerretDB (waiting for it while another holds it),
   * as it is on MongoDB. Without the lock (Redis unreachable, or held past the wait) it throws,
   * unless `orUnlocked`: then `change` runs unlocked, for what must not be lost (the answer to a
   * send already made has no second chance; a status race is the lesser harm).
   */
  async hold<T>(id: Types.ObjectId | string, change: () => Promise<T>, options: { orUnlocked?: boolean } = {}): Promise<T> {
    if (!this.mongo.stockFerretDb) return change();
    let lock: RedisLock;
    try {
      lock = await this.redis.lock(`whatsapp.message:${String(id)}`, MESSAGE_LOCK_MS, MESSAGE_LOCK_MS);
    } catch (error) {
      if (!options.orUnlocked) throw error;
      this.logger.warn('whatsapp message changed without its lock', { messageId: String(id), error: (error as Error).message });
      return change();
    }
    try {
      return await change();
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}
