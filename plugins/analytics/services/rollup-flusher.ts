/**
 * Moves buffered counts from Redis into the rollup documents, one process at a time (Redis
 * lock), so each rollup document has a single writer and FerretDB's lost `$inc`s cannot happen.
 * Each batch carries a number that only grows; a document takes a batch only if its `lastBatch`
 * is lower, so a batch applied again after a crash (the `flushing` hash survives it) adds nothing
 * to the documents it already reached.
 */
import type { Model } from 'mongoose';
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, RedisConnection } from '../../../core/index.js';
import { CountedTypeModel, DayRollupModel, HourRollupModel, rollupId, type CountedType, type DayCombo, type HourCombo, type Rollup } from '../models/rollup.js';
import { EventRecorder } from './event-recorder.js';
import { RollupBuffer } from './rollup-buffer.js';

const DUPLICATE_KEY = 11000;
/** Longer than any flush takes: a flush writes two documents per type and day touched since the last one. */
const LOCK_HOLD_MS = 60_000;

@injectable()
export class RollupFlusher {
  constructor(
    @inject(DayRollupModel.token) private readonly days: Model<Rollup<DayCombo>>,
    @inject(HourRollupModel.token) private readonly hours: Model<Rollup<HourCombo>>,
    @inject(CountedTypeModel.token) private readonly types: Model<CountedType>,
    @inject(RollupBuffer) private readonly buffer: RollupBuffer,
    @inject(EventRecorder) private readonly recorder: EventRecorder,
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /** One flush if no other process is flushing; returns the number of rollup documents written. */
  async flush(): Promise<number> {
    const lock = await this.redis.tryLock('analytics:flush', LOCK_HOLD_MS);
    if (!lock) return 0;
    try {
      await this.recorder.recoverInflight();
      const taken = await this.buffer.handoff();
      if (!taken) return 0;
      const written = await this.apply(taken.batch, taken.counts, taken.dims);
      await this.buffer.flushed();
      return written;
    } finally {
      await lock.release();
    }
  }

  /** Flushes until nothing is buffered (tests, benchmarks, shutdown); waits for other flushers. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.recorder.idle();
    while (!(await this.buffer.empty())) {
      if (Date.now() > deadline) throw new Error('analytics buffer did not empty in time');
      if ((await this.flush()) === 0) await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async apply(batch: number, counts: Record<string, string>, dims: Map<string, Record<string, string>>): Promise<number> {
    // field: <type>|<day>|<combo>|<hour>|<n or v>
    const updates = new Map<string, { type: string; day: string; days: Record<string, number>; hours: Record<string, number>; set: Record<string, unknown> }>();
    for (const [field, raw] of Object.entries(counts)) {
      const [type = '', day = '', combo = '', hour = '', kind = ''] = field.split('|');
      const id = rollupId(type, day);
      let update = updates.get(id);
      if (!update) updates.set(id, update = { type, day, days: {}, hours: {}, set: { lastBatch: batch } });
      const amount = Number(raw);
      const total = kind === 'n' ? `c.${combo}.n` : `c.${combo}.v`;
      const perHour = kind === 'n' ? `c.${combo}.h.${hour}` : `c.${combo}.hv.${hour}`;
      update.days[total] = (update.days[total] ?? 0) + amount;
      update.hours[perHour] = (update.hours[perHour] ?? 0) + amount;
      update.set[`c.${combo}.d`] = dims.get(combo) ?? {};
    }
    const types = new Set([...updates.values()].map((u) => u.type));
    for (const type of types) {
      await this.types.collection.updateOne({ _id: type } as never, { $setOnInsert: { firstCountedAt: new Date() } }, { upsert: true }).catch(ignoreDuplicate);
    }
    let written = 0;
    for (const [id, update] of updates) {
      const onInsert = { $setOnInsert: { type: update.type, day: new Date(`${update.day}T00:00:00Z`) } };
      // The drivers' collections, not the models: mongoose would add $setOnInsert defaults that clash with `c.…`.
      for (const [collection, inc] of [[this.days.collection, update.days], [this.hours.collection, update.hours]] as const) {
        try {
          await collection.updateOne({ _id: id, lastBatch: { $lt: batch } } as never, { $inc: inc, $set: update.set, ...onInsert }, { upsert: true });
          written++;
        } catch (error) {
          // The document exists with this batch applied already (a flush that crashed after it).
          ignoreDuplicate(error);
        }
      }
    }
    this.logger.debug('analytics rollups flushed', { batch, documents: written });
    return written;
  }
}

function ignoreDuplicate(error: unknown): void {
  if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
}
