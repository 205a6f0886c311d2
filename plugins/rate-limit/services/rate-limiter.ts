/**
 * The rate limiter: every decision is one Lua script run in Redis that checks every window and,
 * when the send may go, counts it in all of them at once. Processes that share the Redis share
 * the limits; nothing is read in Node.js and written back.
 */
import type { Redis, Result } from 'ioredis';
import { inject, injectable, RedisConnection } from '../../../core/index.js';
import { RateConfigToken, TIER_NAMES, type RateConfig, type Tier } from '../config.js';
import { ACQUIRE_KEYS, ACQUIRE_SCRIPT, BACKOFF_SCRIPT } from './scripts.js';
import { SenderLimits, type SenderKeys } from './sender-limits.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    flowgateRateAcquire(...args: Array<string | number>): Result<Array<string | number>, Context>;
    flowgateRateBackoff(...args: Array<string | number>): Result<[string, number], Context>;
  }
}

/** The codes a deferral carries; each is listed in docs/error-codes.md. */
export type RateCode =
  | 'RATE_SENDER_PAUSED' | 'RATE_SENDER_BACKOFF' | 'RATE_PAIR_BACKOFF' | 'RATE_THROUGHPUT'
  | 'RATE_HOURLY_CAP' | 'RATE_DAILY_CAP' | 'RATE_PAIR_LIMIT' | 'RATE_MESSAGING_LIMIT';

export interface DecisionRequest {
  sender: string;
  /** Phone digits or business-scoped user id; null when unknown (only sender limits apply). */
  recipient: string | null;
  /** False inside an open customer-service window: such sends do not use the messaging limit. */
  countsTowardMessagingLimit: boolean;
  /** False for dry runs and the compliance check: decide without counting. */
  consume: boolean;
}

export interface Usage {
  second: number;
  hour: number;
  day: number;
  /** Unique recipients outside a service window in the moving messaging window, for the whole portfolio. */
  uniqueRecipients: number;
}

export interface EffectiveLimits {
  tier: Tier;
  messagingLimit: number | null;
  perSecond: number;
  hourly: number | null;
  daily: number | null;
  warningThreshold: number;
}

export interface Warning { limit: 'hourly' | 'daily' | 'messaging'; used: number; cap: number }

export type RateDecision =
  | { allowed: true; usage: Usage; limits: EffectiveLimits; warnings: Warning[] }
  | { allowed: false; code: RateCode; until: Date; usage: Usage; limits: EffectiveLimits };

const SCRIPT_COMMANDS = new WeakSet<Redis>();

@injectable()
export class RateLimiter {
  constructor(
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(SenderLimits) private readonly limits: SenderLimits,
    @inject(RateConfigToken) private readonly config: RateConfig,
  ) {
    const client = redis.client;
    if (!SCRIPT_COMMANDS.has(client)) {
      client.defineCommand('flowgateRateAcquire', { numberOfKeys: ACQUIRE_KEYS.length, lua: ACQUIRE_SCRIPT });
      client.defineCommand('flowgateRateBackoff', { numberOfKeys: 2, lua: BACKOFF_SCRIPT });
      SCRIPT_COMMANDS.add(client);
    }
  }

  /** Decides one send and, when it may go and `consume` is set, counts it. One Redis round trip. */
  async decide(request: DecisionRequest, now = Date.now()): Promise<RateDecision> {
    const keys = this.limits.keys(request.sender, now);
    const ends = this.limits.windowEnds(now);
    const defaults = this.limits.defaults(request.sender);
    const recipient = request.recipient ?? '';
    const pair = `${keys.pairPrefix}${recipient}`;
    const keyList = [
      keys.senderSettings, keys.portfolioSettings, keys.paused, keys.senderBackoff, `${pair}:backoff`,
      keys.second, keys.hour, keys.day, pair, keys.recipients, keys.warnHour, keys.warnDay, keys.warnMessaging,
    ];
    const reply = await this.redis.client.flowgateRateAcquire(
      ...keyList, now, request.consume ? 1 : 0, request.countsTowardMessagingLimit ? 1 : 0, recipient,
      defaults.perSecond, defaults.hourly ?? -1, defaults.daily ?? -1, defaults.tier, defaults.warningThreshold,
      this.config.windows.messagingMs, this.config.pair.intervalMs, this.config.pair.burst, ends.second, ends.hour, ends.day, this.config.pausedRecheckMs,
      ...TIER_NAMES.map((tier) => this.limits.messagingLimit(tier) ?? -1),
    );
    const [decision, code, until, second, hour, day, recipients, perSecond, hourly, daily, , tier, threshold, ...rest] = reply;
    const usage: Usage = { second: Number(second), hour: Number(hour), day: Number(day), uniqueRecipients: Number(recipients) };
    const limits: EffectiveLimits = {
      tier: tier as Tier, messagingLimit: this.limits.messagingLimit(tier as Tier), perSecond: Number(perSecond),
      hourly: Number(hourly) < 0 ? null : Number(hourly), daily: Number(daily) < 0 ? null : Number(daily), warningThreshold: Number(threshold),
    };
    if (decision === 'defer') return { allowed: false, code: code as RateCode, until: new Date(Number(until)), usage, limits };
    const warnings: Warning[] = [];
    for (let i = 0; i + 2 < rest.length; i += 3) warnings.push({ limit: rest[i] as Warning['limit'], used: Number(rest[i + 1]), cap: Number(rest[i + 2]) });
    return { allowed: true, usage, limits, warnings };
  }

  /**
   * After a provider rate-limit error: the sender (or, with a recipient, only that pair) waits an
   * exponentially growing, jittered delay. Returns when the wait ends.
   */
  async backOff(sender: string, recipient?: string, now = Date.now()): Promise<{ until: Date; attempt: number }> {
    const keys = this.limits.keys(sender, now);
    const [untilKey, attemptsKey] = recipient
      ? [`${keys.pairPrefix}${recipient}:backoff`, `${keys.pairPrefix}${recipient}:backoff-attempts`]
      : [keys.senderBackoff, keys.senderBackoffAttempts];
    const { baseMs, maxMs, resetAfterMs } = this.config.backoff;
    const [until, attempt] = await this.redis.client.flowgateRateBackoff(untilKey, attemptsKey, now, baseMs, maxMs, resetAfterMs, Math.random());
    return { until: new Date(Number(until)), attempt: Number(attempt) };
  }

  /** Pauses a sender until resumed (or until `until`): its sends are deferred, not refused. */
  async pause(sender: string, until?: Date): Promise<void> {
    const key = this.limits.keys(sender, Date.now()).paused;
    if (until) await this.redis.client.set(key, String(until.getTime()), 'PXAT', until.getTime());
    else await this.redis.client.set(key, '0');
  }

  async resume(sender: string): Promise<boolean> {
    return await this.redis.client.del(this.limits.keys(sender, Date.now()).paused) > 0;
  }

  /**
   * Clears the sender's counters, backoffs and warning markers, and the unique recipients of its
   * portfolio (shared with the portfolio's other numbers). Settings and a pause stay.
   */
  async reset(sender: string, now = Date.now()): Promise<void> {
    const keys = this.limits.keys(sender, now);
    const senderPrefix = keys.senderSettings.slice(0, -'settings'.length);
    const doomed = [keys.recipients, keys.warnMessaging, keys.senderBackoff, keys.senderBackoffAttempts];
    for (const pattern of [`${senderPrefix}second:*`, `${senderPrefix}hour:*`, `${senderPrefix}day:*`, `${senderPrefix}warned:*`, `${keys.pairPrefix}*`]) {
      doomed.push(...await this.scan(pattern));
    }
    if (doomed.length) await this.redis.client.del(...doomed);
  }

  /** What a sender has used in the current windows, its effective limits, pause and backoff. */
  async state(sender: string, now = Date.now()): Promise<{ usage: Usage; limits: EffectiveLimits; pausedUntil: Date | null; paused: boolean; backoffUntil: Date | null }> {
    const keys: SenderKeys = this.limits.keys(sender, now);
    const defaults = this.limits.defaults(sender);
    const replies = await this.redis.client.multi()
      .hgetall(keys.senderSettings).hget(keys.portfolioSettings, 'tier').get(keys.paused).get(keys.senderBackoff)
      .get(keys.second).get(keys.hour).get(keys.day).zcount(keys.recipients, `(${now - this.config.windows.messagingMs}`, '+inf')
      .exec();
    const value = (i: number) => replies?.[i]?.[1];
    const settings = (value(0) ?? {}) as Record<string, string>;
    const cap = (field: 'hourly' | 'daily') => {
      if (settings[field] === undefined) return defaults[field];
      return Number(settings[field]) < 0 ? null : Number(settings[field]);
    };
    const storedTier = value(1) as string | null;
    const tier = storedTier && (TIER_NAMES as readonly string[]).includes(storedTier) ? storedTier as Tier : defaults.tier;
    const paused = value(2) as string | null;
    const backoff = Number(value(3) ?? 0);
    return {
      usage: { second: Number(value(4) ?? 0), hour: Number(value(5) ?? 0), day: Number(value(6) ?? 0), uniqueRecipients: Number(value(7) ?? 0) },
      limits: {
        tier, messagingLimit: this.limits.messagingLimit(tier), perSecond: settings.perSecond ? Number(settings.perSecond) : defaults.perSecond,
        hourly: cap('hourly'), daily: cap('daily'), warningThreshold: settings.warningThreshold ? Number(settings.warningThreshold) : defaults.warningThreshold,
      },
      paused: paused !== null, pausedUntil: paused && paused !== '0' ? new Date(Number(paused)) : null,
      backoffUntil: backoff > now ? new Date(backoff) : null,
    };
  }

  private async scan(pattern: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }
}
