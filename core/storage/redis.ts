/**
 * The shared ioredis client. Commands queue while Redis is away and fail after a bounded number
 * of retries per request, so a Redis outage turns into errors callers can handle, not a hang.
 */
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { Redis } from 'ioredis';
import type { Logger } from 'winston';
import type { FlowgateConfig } from '../config/config-schema.js';
import { CoreError } from '../errors.js';
import { ConfigToken, LoggerToken } from '../tokens.js';

/** A short lock held in Redis; released only by its holder (a late release never frees someone else's). */
export interface RedisLock {
  /** Frees the lock if it is still ours; a lock that expired and was taken by another stays theirs. */
  release(): Promise<void>;
  /** Holds the lock `holdMs` longer from now; false when it expired and is no longer ours. */
  extend(holdMs: number): Promise<boolean>;
}

const RELEASE_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

@injectable()
export class RedisConnection {
  readonly client: Redis;
  private readonly extra: Redis[] = [];

  constructor(
    @inject(ConfigToken) private readonly config: FlowgateConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {
    this.client = this.create('commands');
  }

  /** A further connection, e.g. for pub/sub subscribers, closed with the service. */
  duplicate(purpose: string): Redis {
    const client = this.create(purpose);
    this.extra.push(client);
    return client;
  }

  private create(purpose: string): Redis {
    const client = new Redis(this.config.redis.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      retryStrategy: (times) => Math.min(2_000, 50 * 2 ** times),
      connectionName: `flowgate:${purpose}`,
    });
    let reported = false;
    client.on('error', (error: Error) => {
      if (!reported) this.logger.warn('redis connection error', { purpose, error: error.message });
      reported = true;
    });
    client.on('ready', () => {
      if (reported) this.logger.info('redis connection restored', { purpose });
      reported = false;
    });
    return client;
  }

  get keyPrefix(): string {
    return this.config.redis.keyPrefix;
  }

  /**
   * Takes the lock `name` (prefixed) for at most `holdMs`, or returns null when another holder
   * has it. Used where MongoDB-protocol storage cannot serialise a change on its own (FerretDB v1
   * does not isolate concurrent conditional updates). `holder` says who holds it, for
   * `lockHolder` to tell those who wait.
   */
  async tryLock(name: string, holdMs: number, holder = ''): Promise<RedisLock | null> {
    const key = `${this.keyPrefix}${name}`;
    const token = `${randomUUID()} ${holder}`;
    if (await this.client.set(key, token, 'PX', holdMs, 'NX') !== 'OK') return null;
    return {
      release: async () => { await this.client.eval(RELEASE_IF_HELD, 1, key, token); },
      extend: async (ms) => (await this.client.eval(EXTEND_IF_HELD, 1, key, token, String(ms))) === 1,
    };
  }

  /** The `holder` given by whoever holds lock `name` now, or null when it is free. */
  async lockHolder(name: string): Promise<string | null> {
    const token = await this.client.get(`${this.keyPrefix}${name}`);
    return token === null ? null : token.slice(token.indexOf(' ') + 1);
  }

  /**
   * Takes the lock `name`, waiting up to `waitMs` while another holder has it; throws
   * LOCK_TIMEOUT when it stays taken. For short critical sections every process runs (a
   * check-then-write that must not interleave), not for long work.
   */
  async lock(name: string, holdMs: number, waitMs: number): Promise<RedisLock> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lock = await this.tryLock(name, holdMs);
      if (lock) return lock;
      if (Date.now() > deadline) throw new CoreError('LOCK_TIMEOUT', `The lock ${name} stayed taken for ${waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async connect(): Promise<void> {
    await this.client.connect();
    await Promise.all(this.extra.filter((c) => c.status === 'wait').map((c) => c.connect()));
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  async close(): Promise<void> {
    await Promise.all([this.client, ...this.extra].map(async (c) => {
      if (c.status === 'end') return;
      try {
        await c.quit();
      } catch {
        c.disconnect();
      }
    }));
  }
}
