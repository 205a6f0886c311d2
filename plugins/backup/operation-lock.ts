/**
 * One backup or restore at a time across every process: the core's Redis lock, which the holder
 * keeps extending while it works. A process that dies holding it frees it when the hold passes
 * (`lockTtlMs`).
 *
 * The holder can also lose it while alive: Redis restarted without persistence, or the process
 * stalled past `lockTtlMs` and the key expired, and another operation may then have taken it. The
 * holder cannot stop that other operation from starting, so it stops its own: `signal` aborts as
 * soon as an extension finds the lock gone, and `confirm` checks it at once before a step that
 * must never run alongside another operation (committing an archive, swapping collections).
 */
import { inject, injectable, HttpError, LoggerToken, RedisConnection, type Logger } from '../../core/index.js';
import { BackupConfigToken, type BackupConfig } from './config.js';

const LOCK = 'backup:lock';
/** Ends the holder label of an operation that turns maintenance mode on (see `heldByMaintenance`). */
const MAINTENANCE_MARK = ' into the live database';

/** Why an operation stopped: it no longer holds the lock, so another may be running. */
export class OperationLockLost extends Error {
  constructor(cause: string) {
    super(`it lost the backup lock (${cause}), so another backup or restore may have started; it stopped rather than run alongside it`);
    this.name = 'OperationLockLost';
  }
}

export interface HeldLock {
  /** Aborted, with an `OperationLockLost` reason, once the lock is known to be lost. */
  readonly signal: AbortSignal;
  /** Extends the lock now; throws `OperationLockLost` unless it is still held. */
  confirm(): Promise<void>;
  release(): Promise<void>;
}

@injectable()
export class OperationLock {
  constructor(
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(BackupConfigToken) private readonly config: BackupConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /**
   * Takes the lock for `what` or throws 409 BACKUP_IN_PROGRESS naming what holds it.
   * `maintenance`: the operation turns maintenance mode on, and off when it ends.
   */
  async acquire(what: string, options: { maintenance?: boolean } = {}): Promise<HeldLock> {
    const ttl = this.config.lockTtlMs;
    const lock = await this.redis.tryLock(LOCK, ttl, `${what}${options.maintenance ? MAINTENANCE_MARK : ''}`);
    if (!lock) {
      const holder = (await this.redis.lockHolder(LOCK)) || 'another operation';
      throw new HttpError(409, 'BACKUP_IN_PROGRESS', `Another backup or restore is running (${holder}); try again when it has finished`, { holder });
    }
    const lost = new AbortController();
    let released = false;
    // The key expires `ttl` after Redis received the last extension, never before it was sent.
    let heldUntil = Date.now() + ttl;
    const lose = (cause: string) => {
      if (released || lost.signal.aborted) return;
      this.logger.error('backup lock lost while the operation ran', { operation: what, cause });
      lost.abort(new OperationLockLost(cause));
    };
    const extend = async (): Promise<void> => {
      const sentAt = Date.now();
      try {
        if (await lock.extend(ttl)) heldUntil = sentAt + ttl;
        else lose('its key expired or another operation holds it');
      } catch (error) {
        // Redis not answering: the lock stays ours until the last extension runs out.
        if (Date.now() >= heldUntil) lose(`Redis did not answer for longer than lockTtlMs: ${(error as Error).message}`);
      }
    };
    // One extension at a time: the next is planned when the last has answered.
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      timer = setTimeout(() => void extend().then(() => { if (!released && !lost.signal.aborted) tick(); }), Math.max(200, Math.floor(ttl / 3)));
      timer.unref();
    };
    tick();
    return {
      signal: lost.signal,
      confirm: async () => {
        lost.signal.throwIfAborted();
        await extend();
        lost.signal.throwIfAborted();
      },
      release: async () => {
        released = true;
        clearTimeout(timer);
        await lock.release();
      },
    };
  }

  /** True when an operation that turns maintenance mode on holds the lock now (it turns it off itself). */
  async heldByMaintenance(): Promise<boolean> {
    return (await this.redis.lockHolder(LOCK))?.endsWith(MAINTENANCE_MARK) ?? false;
  }
}
