/**
 * Request limits per client address and per credential (user or API key), counted in Redis over
 * fixed windows so every process sharing the Redis enforces the same budget. Past a limit the
 * caller gets 429 with `Retry-After` (seconds until its window ends). When Redis does not answer
 * quickly the request is let through: a Redis outage must not take the API down with it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { HttpError } from '../errors.js';
import type { Principal } from '../plugin-api.js';

export interface RequestLimitSettings {
  /** Length of one counting window. */
  windowSeconds: number;
  /** Requests one client address may make per window (0: no limit). */
  perIp: number;
  /** Requests one user or API key may make per window, wherever they come from (0: no limit). */
  perCredential: number;
  /** Path prefixes never counted (probes a load balancer calls). */
  exemptPaths: readonly string[];
}

/** INCR that gives the window's key its expiry on the first hit. */
const COUNT_HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** How long a request waits for the counter before it is let through uncounted. */
const REDIS_BUDGET_MS = 250;

export class RequestLimiter {
  private warned = false;

  constructor(
    private readonly settings: RequestLimitSettings,
    private readonly redis: () => { client: Redis; ready: boolean; keyPrefix: string },
    private readonly logger: Logger,
  ) {}

  exempt(path: string): boolean {
    return this.settings.exemptPaths.some((prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));
  }

  /** Counts a request from `ip`; throws 429 RATE_LIMITED past the per-address limit. */
  async checkAddress(ip: string): Promise<void> {
    if (this.settings.perIp > 0) await this.hit(`ip:${ip}`, this.settings.perIp, 'address');
  }

  /** Counts a request by `principal`; throws 429 RATE_LIMITED past the per-credential limit. */
  async checkPrincipal(principal: Principal): Promise<void> {
    if (this.settings.perCredential > 0) await this.hit(`${principal.kind}:${principal.id}`, this.settings.perCredential, principal.kind === 'apiKey' ? 'API key' : 'user');
  }

  private async hit(subject: string, limit: number, scope: string): Promise<void> {
    const connection = this.redis();
    if (!connection.ready) return;
    const windowMs = this.settings.windowSeconds * 1000;
    // Windows are aligned to the clock, so every process agrees on when one ends.
    const window = Math.floor(Date.now() / windowMs);
    const key = `${connection.keyPrefix}http.limit:${subject}:${window}`;
    let timer: NodeJS.Timeout | undefined;
    const counted = await Promise.race([
      connection.client.eval(COUNT_HIT, 1, key, String(windowMs)) as Promise<number>,
      new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), REDIS_BUDGET_MS); }),
    ]).catch((error: Error) => {
      if (!this.warned) this.logger.warn('request limits not enforced: Redis did not answer', { error: error.message });
      this.warned = true;
      return null;
    }).finally(() => clearTimeout(timer));
    if (counted === null) return;
    this.warned = false;
    if (counted <= limit) return;
    const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - Date.now()) / 1000));
    throw new HttpError(429, 'RATE_LIMITED', `More than ${limit} requests in ${this.settings.windowSeconds} s from this ${scope}; retry in ${retryAfter} s`,
      { scope, limit, windowSeconds: this.settings.windowSeconds, retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
  }
}
