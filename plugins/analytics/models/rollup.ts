import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * Counts of one dimension combination within one rollup document: the day bucket (`n`, `v`) and
 * its 24 UTC hour buckets (`h.h00`…, `hv.h00`…), each a count and a sum of event values.
 */
export interface ComboBuckets {
  /** The dimensions every event counted here had, exactly. */
  d: Record<string, string>;
  n: number;
  v: number;
  h: Record<string, number>;
  hv?: Record<string, number>;
}

/**
 * One event type on one UTC day: `_id` is `<type>|<YYYY-MM-DD>`. Combinations are keyed by a hash
 * of their dimensions (`c.<hash>`), since dimension values may hold characters a key may not.
 * Reading a period costs one document per type and day, whatever the number of events.
 */
export interface Rollup {
  _id: string;
  type: string;
  /** UTC midnight of the day. */
  day: Date;
  c: Record<string, ComboBuckets>;
  /** The last flush batch applied: applying the same batch again (after a crash) changes nothing. */
  lastBatch: number;
}

const schema = new Schema<Rollup>({
  _id: { type: String, required: true },
  type: { type: String, required: true },
  day: { type: Date, required: true },
  c: { type: Schema.Types.Mixed, default: {} },
  lastBatch: { type: Number, required: true },
}, { versionKey: false, minimize: false });
schema.index({ type: 1, day: 1 });

export const RollupModel = defineModel<Rollup>('AnalyticsRollup', schema);

export const rollupId = (type: string, day: string): string => `${type}|${day}`;
export const hourKey = (hour: number): string => `h${String(hour).padStart(2, '0')}`;
