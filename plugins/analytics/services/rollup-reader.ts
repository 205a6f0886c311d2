/**
 * Reads figures from the rollup documents: one document per event type and UTC day in the period,
 * whatever the number of events. Totals read the whole UTC days inside the period from the small
 * day documents, and only the (at most two) days the period cuts from hour documents. Series by
 * hour, and by local day in a zone that is not at UTC+0, compose each local day from UTC hour
 * buckets, assigned to the local date on which each hour starts (see time-zones.ts).
 */
import type { Model } from 'mongoose';
import { inject, injectable } from '../../../core/index.js';
import {
  CountedTypeModel, DayRollupModel, HourRollupModel, rollupId, type CountedType, type DayCombo, type HourCombo, type Rollup,
} from '../models/rollup.js';
import { DAY_MS, HOUR_MS, localTime, nextDate, startOfLocalDay, utcDay } from './time-zones.js';

/** A period of whole UTC hours, `to` exclusive, read in `zone`. */
export interface Period {
  from: number;
  to: number;
  zone: string;
}

export type Interval = 'hour' | 'day';

export interface Tally {
  count: number;
  sum: number;
}

export interface RollupQuery {
  /** Event types to read; empty reads every type. */
  types: readonly string[];
  period: Period;
  /** Per hour, per local day, or one total for the period. */
  interval: Interval | 'total';
  /** Only combinations with exactly these dimension values. */
  filter?: Readonly<Record<string, string>>;
  /** Dimensions to break the figures down by (missing values read as `''`). */
  groupBy?: readonly string[];
}

/** One cell of a result: a bucket (hour ISO instant, local date or `total`), a type and a group. */
export interface Cell extends Tally {
  bucket: string;
  type: string;
  group: Record<string, string>;
}

/** A series bucket as answered: where it starts, its local label, and how many hours it has. */
export interface BucketInfo {
  key: string;
  start: string;
  label: string;
  hours: number;
}

/** Up to this many hour documents are fetched one by one by `_id` (indexed on FerretDB too); more are read with one range query. */
const MAX_ID_LOOKUPS = 64;

@injectable()
export class RollupReader {
  constructor(
    @inject(DayRollupModel.token) private readonly days: Model<Rollup<DayCombo>>,
    @inject(HourRollupModel.token) private readonly hours: Model<Rollup<HourCombo>>,
    @inject(CountedTypeModel.token) private readonly countedTypes: Model<CountedType>,
  ) {}

  async read(query: RollupQuery): Promise<Cell[]> {
    const { period, interval } = query;
    // Which UTC days come from day buckets (whole days inside the period that are also whole buckets of the answer) and which from hours.
    const fromDays = new Set<number>();
    const fromHours = new Set<number>();
    for (let day = Math.floor(period.from / DAY_MS) * DAY_MS; day < period.to; day += DAY_MS) {
      const inside = day >= period.from && day + DAY_MS <= period.to;
      (inside && (interval === 'total' || (interval === 'day' && isWholeLocalDay(day, period.zone))) ? fromDays : fromHours).add(day);
    }
    const types = query.types.length ? [...query.types] : (await this.countedTypes.find({}, { _id: 1 }).lean<CountedType[]>()).map((t) => t._id);
    if (types.length === 0) return [];
    const cells = new Map<string, Cell>();
    const add = (bucket: string, type: string, combo: { d: Record<string, string> }, count: number, sum: number) => {
      const group = Object.fromEntries((query.groupBy ?? []).map((name) => [name, combo.d[name] ?? '']));
      const key = `${bucket}\u0000${type}\u0000${JSON.stringify(group)}`;
      const cell = cells.get(key) ?? { bucket, type, group, count: 0, sum: 0 };
      cell.count += count;
      cell.sum += sum;
      cells.set(key, cell);
    };
    const localDate = memoize((instant: number) => localTime(instant, period.zone).date);
    for (const doc of await this.fetch(this.days, types, fromDays)) {
      const dayStart = new Date(doc.day).getTime();
      for (const combo of Object.values(doc.c ?? {})) {
        if (matches(combo, query.filter)) add(interval === 'total' ? 'total' : localDate(dayStart), doc.type, combo, combo.n ?? 0, combo.v ?? 0);
      }
    }
    for (const doc of await this.fetch(this.hours, types, fromHours)) {
      const dayStart = new Date(doc.day).getTime();
      for (const combo of Object.values(doc.c ?? {})) {
        if (!matches(combo, query.filter)) continue;
        for (const [hour, count] of Object.entries(combo.h ?? {})) {
          const instant = dayStart + Number(hour.slice(1)) * HOUR_MS;
          if (instant < period.from || instant >= period.to) continue;
          const bucket = interval === 'total' ? 'total' : interval === 'hour' ? new Date(instant).toISOString() : localDate(instant);
          add(bucket, doc.type, combo, count, combo.hv?.[hour] ?? 0);
        }
      }
    }
    return [...cells.values()];
  }

  /** The rollup documents of these types on these UTC days: by `_id` when few, else one range query. */
  private async fetch<C>(model: Model<Rollup<C>>, types: string[], days: Set<number>): Promise<Array<Rollup<C>>> {
    if (days.size === 0) return [];
    const sorted = [...days].sort((a, b) => a - b);
    if (types.length * days.size <= MAX_ID_LOOKUPS) {
      const ids = types.flatMap((type) => sorted.map((day) => rollupId(type, utcDay(day))));
      return (await Promise.all(ids.map((id) => model.findById(id).lean<Rollup<C>>()))).filter((doc): doc is Rollup<C> => doc !== null);
    }
    const docs = await model.find({ type: { $in: types }, day: { $gte: new Date(sorted[0] as number), $lte: new Date(sorted.at(-1) as number) } }).lean<Array<Rollup<C>>>();
    return docs.filter((doc) => days.has(new Date(doc.day).getTime()));
  }
}

/** The buckets of a series over the period, in order, each with its local label and length in hours. */
export function seriesBuckets(period: Period, interval: Interval): BucketInfo[] {
  const buckets: BucketInfo[] = [];
  if (interval === 'hour') {
    for (let instant = period.from; instant < period.to; instant += HOUR_MS) {
      const local = localTime(instant, period.zone);
      buckets.push({ key: new Date(instant).toISOString(), start: new Date(instant).toISOString(), label: `${local.date}T${pad(local.hour)}:${pad(local.minute)}`, hours: 1 });
    }
    return buckets;
  }
  for (let date = localTime(period.from, period.zone).date; ; date = nextDate(date)) {
    const start = Math.max(period.from, startOfLocalDay(date, period.zone));
    if (start >= period.to) break;
    const end = Math.min(period.to, startOfLocalDay(nextDate(date), period.zone));
    buckets.push({ key: date, start: new Date(start).toISOString(), label: date, hours: Math.round((end - start) / HOUR_MS) });
  }
  return buckets;
}

/** False when the zone's offset is not whole hours somewhere in the period, so day edges are rounded to the hour. */
export function exactDayBoundaries(period: Period): boolean {
  for (let instant = period.from; instant < period.to; instant += 6 * HOUR_MS) {
    if (localTime(instant, period.zone).minute !== 0) return false;
  }
  return localTime(period.to, period.zone).minute === 0;
}

function isWholeLocalDay(dayStart: number, zone: string): boolean {
  const first = localTime(dayStart, zone);
  return first.hour === 0 && first.minute === 0 && localTime(dayStart + 23 * HOUR_MS, zone).date === first.date;
}

function matches(combo: { d: Record<string, string> }, filter: Readonly<Record<string, string>> | undefined): boolean {
  if (!filter) return true;
  for (const [name, value] of Object.entries(filter)) if (combo.d?.[name] !== value) return false;
  return true;
}

function memoize<K, V>(fn: (key: K) => V): (key: K) => V {
  const cache = new Map<K, V>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, fn(key));
    return cache.get(key) as V;
  };
}

const pad = (n: number) => String(n).padStart(2, '0');
