/**
 * Ingestion: raw events are stored once (unique `_id` = event id) and each new one is counted
 * once into the Redis buffer (see RollupBuffer for the crash-safe steps). Plugin facts arrive as
 * `analytics` core events and are written in batches: whatever accumulates while one batch is
 * being written becomes the next batch.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Model } from 'mongoose';
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, type CoreEventMap } from '../../../core/index.js';
import { AnalyticsConfigToken, type AnalyticsConfig } from '../config.js';
import { AnalyticsEventModel, type AnalyticsEvent } from '../models/analytics-event.js';
import { hourKey } from '../models/rollup.js';
import { RollupBuffer, type StagedIncrement } from './rollup-buffer.js';
import { DAY_MS, utcDay } from './time-zones.js';

export type Fact = CoreEventMap['analytics'];

export interface IngestOutcome {
  id: string;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  code?: string;
  message?: string;
}

const DUPLICATE_KEY = 11000;
const DIMENSION_KEY = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const MAX_DIMENSION_VALUE = 200;
const REALTIME_PAST_MS = 2 * 60 * 60_000;

/** Dimensions in key order, so the same combination always hashes alike. */
export function canonicalDimensions(dimensions: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const comboHash = (json: string): string => createHash('sha1').update(json).digest('hex').slice(0, 16);

@injectable()
export class EventRecorder {
  /** This process, in inflight entry names; its liveness key lets others recover after a crash. */
  readonly processId = randomUUID();
  private readonly batchesInProgress = new Set<string>();
  private queue: Array<{ fact: Fact; source: AnalyticsEvent['source'] }> = [];
  private draining: Promise<void> | null = null;

  constructor(
    @inject(AnalyticsEventModel.token) private readonly events: Model<AnalyticsEvent>,
    @inject(RollupBuffer) private readonly buffer: RollupBuffer,
    @inject(AnalyticsConfigToken) private readonly config: AnalyticsConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /** Queues a fact reported by a plugin; never throws (a bad fact is logged and dropped). */
  report(fact: Fact): void {
    const clean = sanitize(fact);
    if (!clean) {
      this.logger.warn('analytics fact dropped: malformed', { id: fact.id, type: fact.type });
      return;
    }
    this.queue.push({ fact: clean, source: 'plugin' });
    this.draining ??= this.drain();
  }

  /** Resolves when every queued plugin fact is stored and counted (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 1_000);
        try {
          const outcomes = await this.record(batch.map((b) => b.fact), 'plugin');
          for (const o of outcomes) if (o.outcome === 'rejected') this.logger.debug('analytics fact refused', { ...o });
        } catch (error) {
          this.logger.error('analytics facts not recorded', { count: batch.length, error: (error as Error).message });
        }
      }
    } finally {
      this.draining = null;
    }
  }

  /** Stores and counts a batch; one outcome per fact, in order. Throws only when storage fails. */
  async record(facts: Fact[], source: AnalyticsEvent['source']): Promise<IngestOutcome[]> {
    const now = Date.now();
    const oldest = now - this.config.retentionDays * DAY_MS;
    const outcomes: IngestOutcome[] = [];
    const fresh: Array<{ index: number; doc: AnalyticsEvent; field: string; increment: StagedIncrement }> = [];
    const seen = new Set<string>();
    const batch = randomUUID();
    for (const [index, fact] of facts.entries()) {
      const at = fact.occurredAt.getTime();
      if (at < oldest) outcomes.push({ id: fact.id, outcome: 'rejected', code: 'ANALYTICS_EVENT_TOO_OLD', message: `occurredAt is older than the ${this.config.retentionDays}-day retention` });
      else if (at > now + this.config.maxFutureSkewMs) outcomes.push({ id: fact.id, outcome: 'rejected', code: 'ANALYTICS_EVENT_IN_FUTURE', message: 'occurredAt is in the future' });
      else if (seen.has(fact.id)) outcomes.push({ id: fact.id, outcome: 'duplicate' });
      else {
        seen.add(fact.id);
        outcomes.push({ id: fact.id, outcome: 'accepted' });
        const dimensions = canonicalDimensions(fact.dimensions);
        const dims = JSON.stringify(dimensions);
        const minute = at >= now - REALTIME_PAST_MS && at <= now + 60_000 ? Math.floor(at / 60_000) : -1;
        fresh.push({
          index,
          doc: { _id: fact.id, type: fact.type, occurredAt: fact.occurredAt, dimensions, ...(fact.value !== undefined ? { value: fact.value } : {}), source, batch, receivedAt: new Date(now) },
          field: `${this.processId}|${batch}|${fact.id}`,
          increment: {
            type: fact.type, day: utcDay(at), hour: hourKey(new Date(at).getUTCHours()), combo: comboHash(dims), dims,
            value: fact.value !== undefined ? String(fact.value) : '', minute,
          },
        });
      }
    }
    if (fresh.length === 0) return outcomes;
    this.batchesInProgress.add(batch);
    try {
      await this.buffer.stage(fresh.map((f) => [f.field, f.increment]));
      const duplicates = await this.insert(fresh.map((f) => f.doc));
      const counted: string[] = [];
      const dropped: string[] = [];
      fresh.forEach((f, i) => {
        if (duplicates.has(i)) {
          dropped.push(f.field);
          outcomes[f.index] = { id: f.doc._id, outcome: 'duplicate' };
        } else counted.push(f.field);
      });
      await this.buffer.commit(counted, dropped);
    } finally {
      this.batchesInProgress.delete(batch);
    }
    return outcomes;
  }

  /** Inserts the documents; returns the indexes refused as duplicates. */
  private async insert(docs: AnalyticsEvent[]): Promise<Set<number>> {
    try {
      await (this.events.collection as unknown as Collection<AnalyticsEvent>).insertMany(docs, { ordered: false });
      return new Set();
    } catch (error) {
      const writeErrors = (error as { writeErrors?: Array<{ code?: number; index: number }> | { code?: number; index: number } }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (list.length === 0 || list.some((e) => e.code !== DUPLICATE_KEY)) throw error;
      return new Set(list.map((e) => e.index));
    }
  }

  /**
   * Settles inflight entries whose writer is gone: a crashed process, or a batch of this process
   * that failed half-way. An entry counts when its event is stored with that entry's batch.
   * Called by the flusher under its lock.
   */
  async recoverInflight(): Promise<number> {
    const entries = await this.buffer.inflight();
    if (entries.size === 0) return 0;
    const alive = new Map<string, boolean>();
    const counted: string[] = [];
    const dropped: string[] = [];
    for (const field of entries.keys()) {
      const [processId = '', batch = ''] = field.split('|', 2);
      const eventId = field.slice(processId.length + batch.length + 2);
      if (processId === this.processId) {
        if (this.batchesInProgress.has(batch)) continue;
      } else {
        if (!alive.has(processId)) alive.set(processId, await this.buffer.isAlive(processId));
        if (alive.get(processId)) continue;
      }
      const stored = await this.events.findById(eventId, { batch: 1 }).lean<Pick<AnalyticsEvent, 'batch'>>();
      (stored?.batch === batch ? counted : dropped).push(field);
    }
    const recovered = await this.buffer.commit(counted, dropped);
    if (counted.length + dropped.length > 0) this.logger.warn('analytics inflight entries recovered', { counted: recovered, dropped: dropped.length });
    return recovered;
  }
}

/** A plugin's fact with only what the rollups can keep: valid type, string dimensions with safe keys, integer value. */
function sanitize(fact: Fact): Fact | null {
  if (typeof fact.id !== 'string' || fact.id.length === 0 || fact.id.length > 200 || !TYPE.test(fact.type) || fact.type.length > 64) return null;
  if (!(fact.occurredAt instanceof Date) || Number.isNaN(fact.occurredAt.getTime())) return null;
  const dimensions: Record<string, string> = {};
  for (const [key, value] of Object.entries(fact.dimensions ?? {})) {
    if (DIMENSION_KEY.test(key) && value !== undefined && value !== null && value !== '') dimensions[key] = String(value).slice(0, MAX_DIMENSION_VALUE);
  }
  const value = typeof fact.value === 'number' && Number.isFinite(fact.value) ? Math.round(fact.value) : undefined;
  return { id: fact.id, type: fact.type, occurredAt: fact.occurredAt, dimensions, ...(value !== undefined ? { value } : {}) };
}
