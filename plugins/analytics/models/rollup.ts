import { Schema } from 'mongoose';
import { defineModel } from '../../../core/index.js';

/**
 * Rollup documents: for each event type and UTC day, a day document (`AnalyticsDayRollup`) with
 * one count and sum per dimension combination, and an hour document (`AnalyticsHourRollup`) with
 * the same per UTC hour. `_id` is `<type>|<YYYY-MM-DD>` in both. Combinations are keyed by a hash
 * of their dimensions (`c.<hash>`), since dimension values may hold characters a key may not.
 * Day documents are small, so a long period reads fast; hour documents are read by `_id` for the
 * days a period cuts, or for series by hour and by non-UTC local day.
 */
export interface DayCombo {
  /** The dimensions every event counted here had, exactly. */
  d: Record<string, string>;
  n: number;
  v: number;
}

export interface HourCombo {
  d: Record<string, string>;
  /** Count per UTC hour, `h00`…`h23`. */
  h: Record<string, number>;
  /** Sum of values per UTC hour. */
  hv?: Record<string, number>;
}

export interface Rollup<C> {
  _id: string;
  type: string;
  /** UTC midnight of the day. */
  day: Date;
  c: Record<string, C>;
  /** The last flush batch applied: applying the same batch again (after a crash) changes nothing. */
  lastBatch: number;
}

/** An event type that has been counted, so a read of "every type" knows which hour documents exist. */
export interface CountedType {
  _id: string;
  firstCountedAt: Date;
}

function rollupSchema<C>(): Schema<Rollup<C>> {
  const schema = new Schema<Rollup<C>>({
    _id: { type: String, required: true },
    type: { type: String, required: true },
    day: { type: Date, required: true },
    c: { type: Schema.Types.Mixed, default: {} },
    lastBatch: { type: Number, required: true },
  }, { versionKey: false, minimize: false });
  schema.index({ type: 1, day: 1 });
  return schema;
}

export const DayRollupModel = defineModel<Rollup<DayCombo>>('AnalyticsDayRollup', rollupSchema<DayCombo>());
export const HourRollupModel = defineModel<Rollup<HourCombo>>('AnalyticsHourRollup', rollupSchema<HourCombo>());
export const CountedTypeModel = defineModel<CountedType>('AnalyticsCountedType', new Schema<CountedType>({
  _id: { type: String, required: true },
  firstCountedAt: { type: Date, required: true },
}, { versionKey: false }));

export const rollupId = (type: string, day: string): string => `${type}|${day}`;
export const hourKey = (hour: number): string => `h${String(hour).padStart(2, '0')}`;
