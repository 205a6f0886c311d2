/**
 * The last minutes, from the per-minute Redis counters the ingestion commit keeps (by when each
 * event occurred). Pushed on the `analytics` topic by one process at a time, at most once per
 * `realtimePushMs`, and only when something was counted since the last push.
 */
import { inject, injectable, Realtime, RedisConnection } from '../../../core/index.js';
import { AnalyticsConfigToken, type AnalyticsConfig } from '../config.js';
import { RollupBuffer } from './rollup-buffer.js';

export const PUSHED_MINUTES = 5;

export interface RecentSnapshot {
  minutes: Array<{ minute: string; total: number; counts: Record<string, number> }>;
  totals: Record<string, number>;
  total: number;
}

@injectable()
export class RecentActivity {
  constructor(
    @inject(RollupBuffer) private readonly buffer: RollupBuffer,
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(AnalyticsConfigToken) private readonly config: AnalyticsConfig,
  ) {}

  /** Counts by type for each of the last `count` minutes, oldest first, the current minute last. */
  async snapshot(count: number, now = Date.now()): Promise<RecentSnapshot> {
    const current = Math.floor(now / 60_000);
    const epochMinutes = Array.from({ length: count }, (_, i) => current - count + 1 + i);
    const raw = await this.buffer.minutes(epochMinutes);
    const totals: Record<string, number> = {};
    const minutes = epochMinutes.map((minute, i) => {
      const counts = Object.fromEntries(Object.entries(raw[i] ?? {}).map(([type, n]) => [type, Number(n)]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)));
      for (const [type, n] of Object.entries(counts)) totals[type] = (totals[type] ?? 0) + (n as number);
      return { minute: new Date(minute * 60_000).toISOString(), total: Object.values(counts).reduce((s: number, n) => s + (n as number), 0), counts };
    });
    return { minutes, totals, total: Object.values(totals).reduce((s, n) => s + n, 0) };
  }

  /** Publishes `analytics.realtime` if this process holds the push slot and something changed. */
  async pushIfChanged(): Promise<boolean> {
    // Not released: the lock expiring is what spaces pushes across all processes.
    if (!(await this.redis.tryLock('analytics:push', this.config.realtimePushMs))) return false;
    const counted = await this.buffer.countedSoFar();
    const pushedKey = this.buffer.key('pushed-count');
    if (Number(await this.redis.client.get(pushedKey) ?? -1) === counted) return false;
    await this.redis.client.set(pushedKey, String(counted));
    this.realtime.publish('analytics', 'analytics.realtime', { ...(await this.snapshot(PUSHED_MINUTES)) });
    return true;
  }
}
