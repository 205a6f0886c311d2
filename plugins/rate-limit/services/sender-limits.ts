/**
 * Where each sender's limits come from: the config (defaults, per-sender caps, portfolios) and
 * the changes made over the API, which are kept in Redis beside the counters so that every
 * process reads them in the same script that decides.
 */
import { inject, injectable, RedisConnection } from '../../../core/index.js';
import { RateConfigToken, type RateConfig, type Tier } from '../config.js';

/** Redis keys of one sender (and its portfolio) for the windows that contain `now`. */
export interface SenderKeys {
  senderSettings: string;
  portfolioSettings: string;
  paused: string;
  senderBackoff: string;
  senderBackoffAttempts: string;
  second: string;
  hour: string;
  day: string;
  recipients: string;
  warnHour: string;
  warnDay: string;
  warnMessaging: string;
  /** Prefix of the pair buckets and pair backoffs of this sender. */
  pairPrefix: string;
}

export interface WindowEnds { second: number; hour: number; day: number }

/** The caps a route may change; `null` removes an hourly or daily cap. */
export interface LimitChanges {
  tier?: Tier;
  perSecond?: number;
  hourly?: number | null;
  daily?: number | null;
  warningThreshold?: number;
}

@injectable()
export class SenderLimits {
  private readonly portfolioBySender = new Map<string, string>();

  constructor(@inject(RateConfigToken) private readonly config: RateConfig, @inject(RedisConnection) private readonly redis: RedisConnection) {
    for (const [portfolio, { senders }] of Object.entries(config.portfolios)) {
      for (const sender of senders) this.portfolioBySender.set(sender, portfolio);
    }
  }

  /** The business portfolio whose messaging limit the sender shares, or null when it has its own. */
  portfolioOf(sender: string): string | null {
    return this.portfolioBySender.get(sender) ?? null;
  }

  /** Senders the config names (the WhatsApp plugin's senders are added by the caller). */
  configuredSenders(): string[] {
    return [...this.portfolioBySender.keys(), ...Object.keys(this.config.senders)];
  }

  /** Config defaults for a sender, before changes made over the API. */
  defaults(sender: string): { tier: Tier; perSecond: number; hourly: number | null; daily: number | null; warningThreshold: number } {
    const own = this.config.senders[sender] ?? {};
    const portfolio = this.portfolioOf(sender);
    return {
      tier: (portfolio ? this.config.portfolios[portfolio]?.tier : undefined) ?? this.config.tier,
      perSecond: own.perSecond ?? this.config.perSecond,
      hourly: own.hourly ?? this.config.hourly ?? null,
      daily: own.daily ?? this.config.daily ?? null,
      warningThreshold: own.warningThreshold ?? this.config.warningThreshold,
    };
  }

  keys(sender: string, now: number): SenderKeys {
    const base = `${this.redis.keyPrefix}rate:`;
    const s = `${base}sender:${sender}:`;
    const { windows } = this.config;
    const portfolio = `${base}portfolio:${this.portfolioOf(sender) ?? `own-${sender}`}:`;
    const hour = Math.floor(now / windows.hourMs);
    const day = Math.floor(now / windows.dayMs);
    return {
      senderSettings: `${s}settings`, portfolioSettings: `${portfolio}settings`, paused: `${s}paused`,
      senderBackoff: `${s}backoff`, senderBackoffAttempts: `${s}backoff-attempts`,
      second: `${s}second:${Math.floor(now / windows.secondMs)}`, hour: `${s}hour:${hour}`, day: `${s}day:${day}`,
      recipients: `${portfolio}recipients`, warnHour: `${s}warned:hour:${hour}`, warnDay: `${s}warned:day:${day}`, warnMessaging: `${portfolio}warned:messaging`,
      pairPrefix: `${base}pair:${sender}:`,
    };
  }

  /** Unique recipients a tier allows; null for TIER_UNLIMITED. */
  messagingLimit(tier: Tier): number | null {
    return tier === 'TIER_UNLIMITED' ? null : this.config.messagingLimits[tier];
  }

  windowEnds(now: number): WindowEnds {
    const end = (length: number) => (Math.floor(now / length) + 1) * length;
    const { windows } = this.config;
    return { second: end(windows.secondMs), hour: end(windows.hourMs), day: end(windows.dayMs) };
  }

  /** Stores changes made over the API; they win over the config until Redis forgets them. */
  async change(sender: string, changes: LimitChanges): Promise<void> {
    const keys = this.keys(sender, Date.now());
    const multi = this.redis.client.multi();
    if (changes.tier) multi.hset(keys.portfolioSettings, 'tier', changes.tier);
    for (const field of ['perSecond', 'hourly', 'daily', 'warningThreshold'] as const) {
      const value = changes[field];
      // -1 stored means "no cap", which differs from "not changed" (no field: the config decides).
      if (value !== undefined) multi.hset(keys.senderSettings, field, String(value ?? -1));
    }
    await multi.exec();
  }
}
