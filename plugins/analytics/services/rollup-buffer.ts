/**
 * Counts on their way to the rollup documents, held in Redis where increments are atomic
 * (FerretDB v1 loses concurrent `$inc`s on one document). Three stages, each a Lua script so it
 * is all-or-nothing:
 *
 * 1. `stage`: before the raw events are inserted, each event's increments are written to the
 *    `inflight` hash under `<process>|<batch>|<event id>`.
 * 2. `commit`: after the insert, the events that were new move their increments into `pending`
 *    (HINCRBY) and the duplicates are dropped. Only the caller that removes an inflight entry
 *    counts it, so a commit and a crash recovery can never both count one event.
 * 3. `handoff`: the flusher renames `pending` to `flushing` with a new batch number (or finds the
 *    `flushing` a crashed flusher left), writes it to MongoDB idempotently, then deletes it.
 *
 * The per-minute counters behind the realtime figures are incremented by `commit` too.
 */
import { inject, injectable, RedisConnection } from '../../../core/index.js';

/** What one event adds: to which rollup document, combination and hour, and its realtime minute. */
export interface StagedIncrement {
  type: string;
  day: string;
  hour: string;
  /** Hash of the dimension combination. */
  combo: string;
  /** The combination's dimensions as JSON (kept once per hash for the flusher). */
  dims: string;
  /** The event's value as an integer string, or '' when it has none. */
  value: string;
  /** Epoch minute for the realtime counters, or -1 when the event is too old or too new for them. */
  minute: number;
}

export const REALTIME_KEEP_SECONDS = 2 * 60 * 60;

const COMMIT = `
local ncommit = tonumber(ARGV[2])
local counted = 0
for i = 3, #ARGV do
  local payload = redis.call('HGET', KEYS[1], ARGV[i])
  if payload then
    redis.call('HDEL', KEYS[1], ARGV[i])
    if i - 2 <= ncommit then
      local e = cjson.decode(payload)
      local base = e.type .. '|' .. e.day .. '|' .. e.combo .. '|' .. e.hour
      redis.call('HINCRBY', KEYS[2], base .. '|n', 1)
      if e.value ~= '' then redis.call('HINCRBY', KEYS[2], base .. '|v', e.value) end
      redis.call('HSETNX', KEYS[3], e.combo, e.dims)
      if e.minute >= 0 then
        local key = ARGV[1] .. string.format('%d', e.minute)
        redis.call('HINCRBY', key, e.type, 1)
        redis.call('EXPIRE', key, ${REALTIME_KEEP_SECONDS})
      end
      counted = counted + 1
    end
  end
end
if counted > 0 then redis.call('INCRBY', KEYS[4], counted) end
return counted`;

// The batch number only grows, even if Redis lost its data: it is at least the server's time in ms.
const HANDOFF = `
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.call('GET', KEYS[3]) end
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = math.max(tonumber(redis.call('GET', KEYS[4]) or '0') + 1, now)
redis.call('SET', KEYS[4], string.format('%d', seq))
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], string.format('%d', seq))
return string.format('%d', seq)`;

@injectable()
export class RollupBuffer {
  constructor(@inject(RedisConnection) private readonly redis: RedisConnection) {}

  key(name: string): string {
    return `${this.redis.keyPrefix}analytics:${name}`;
  }

  async stage(entries: Array<[field: string, increment: StagedIncrement]>): Promise<void> {
    if (entries.length === 0) return;
    await this.redis.client.hset(this.key('inflight'), Object.fromEntries(entries.map(([field, inc]) => [field, JSON.stringify(inc)])));
  }

  /** Counts the `counted` inflight entries and drops the `dropped` ones; returns how many were counted. */
  async commit(counted: string[], dropped: string[]): Promise<number> {
    if (counted.length + dropped.length === 0) return 0;
    const result = await this.redis.client.eval(
      COMMIT, 4, this.key('inflight'), this.key('pending'), this.key('dims'), this.key('counted'),
      this.key('minute:'), String(counted.length), ...counted, ...dropped,
    );
    return Number(result);
  }

  /** Inflight entries as `field → increment` (normally few: the batches being written right now). */
  async inflight(): Promise<Map<string, StagedIncrement>> {
    const raw = await this.redis.client.hgetall(this.key('inflight'));
    return new Map(Object.entries(raw).map(([field, json]) => [field, JSON.parse(json) as StagedIncrement]));
  }

  /** Takes the pending counts for flushing (or the batch a crashed flusher left): its number and its fields. */
  async handoff(): Promise<{ batch: number; counts: Record<string, string>; dims: Map<string, Record<string, string>> } | null> {
    const seq = await this.redis.client.eval(HANDOFF, 4, this.key('pending'), this.key('flushing'), this.key('flushing-batch'), this.key('batch')) as string | null;
    if (seq === null) return null;
    const counts = await this.redis.client.hgetall(this.key('flushing'));
    const combos = [...new Set(Object.keys(counts).map((field) => field.split('|')[2] as string))];
    const json = combos.length ? await this.redis.client.hmget(this.key('dims'), ...combos) : [];
    const dims = new Map(combos.map((combo, i) => [combo, JSON.parse(json[i] ?? '{}') as Record<string, string>]));
    return { batch: Number(seq), counts, dims };
  }

  /** The flushed batch is in MongoDB: forget it. */
  async flushed(): Promise<void> {
    await this.redis.client.del(this.key('flushing'), this.key('flushing-batch'));
  }

  /** True when nothing is waiting anywhere between ingestion and the rollup documents. */
  async empty(): Promise<boolean> {
    const counts = await this.redis.client.multi().exists(this.key('pending')).exists(this.key('flushing')).hlen(this.key('inflight')).exec();
    return (counts ?? []).every(([, value]) => value === 0);
  }

  /** How many events were counted since Redis started keeping it (changes mean "push again"). */
  async countedSoFar(): Promise<number> {
    return Number(await this.redis.client.get(this.key('counted')) ?? 0);
  }

  /** Per-minute counts by type for the given epoch minutes. */
  async minutes(epochMinutes: number[]): Promise<Array<Record<string, string>>> {
    const pipeline = this.redis.client.pipeline();
    for (const minute of epochMinutes) pipeline.hgetall(this.key(`minute:${minute}`));
    const results = await pipeline.exec();
    return (results ?? []).map(([, value]) => (value ?? {}) as Record<string, string>);
  }

  /** Marks this process alive for `holdMs`, so others do not recover its inflight batches. */
  async heartbeat(processId: string, holdMs: number): Promise<void> {
    await this.redis.client.set(this.key(`alive:${processId}`), '1', 'PX', holdMs);
  }

  async isAlive(processId: string): Promise<boolean> {
    return await this.redis.client.exists(this.key(`alive:${processId}`)) === 1;
  }
}
