/**
 * Calendar periods in a time zone: which day, ISO week or month an instant falls in there, and
 * when that period starts and ends as instants. Pure functions over Intl, so DST changes and
 * zones with half- and quarter-hour offsets are handled by the platform's tz database.
 */
import { HttpError } from '../../core/index.js';

export type Granularity = 'day' | 'week' | 'month';

interface LocalDate { year: number; month: number; day: number }

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** Throws 400 SALES_TIMEZONE_INVALID unless `timeZone` is an IANA zone this platform knows. */
export function requireTimeZone(timeZone: string): string {
  try {
    formatter(timeZone);
    return timeZone;
  } catch {
    throw new HttpError(400, 'SALES_TIMEZONE_INVALID', `Unknown time zone ${JSON.stringify(timeZone)}: use an IANA name such as Europe/Paris`);
  }
}

function wallClock(at: Date, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

/** Offset of the zone from UTC at `at`, in ms (Paris in winter: +3,600,000). */
function offsetMs(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant local midnight starts `date` in the zone (the first instant of that date when DST skips midnight). */
export function startOfLocalDate(date: LocalDate, timeZone: string): Date {
  const naive = Date.UTC(date.year, date.month - 1, date.day);
  // Two passes converge for every real zone: the offset at the guess, then at the corrected guess.
  let guess = naive - offsetMs(new Date(naive), timeZone);
  guess = naive - offsetMs(new Date(guess), timeZone);
  const local = wallClock(new Date(guess), timeZone);
  if (local.day !== date.day) {
    // Midnight does not exist (DST jumps over it): the day starts when the clocks jump.
    guess += 60 * 60 * 1000;
  }
  return new Date(guess);
}

const shift = (date: LocalDate, days: number): LocalDate => {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
};

/** ISO 8601 week: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(date: LocalDate): { year: number; week: number; monday: LocalDate } {
  const weekday = (new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7; // Monday 0
  const monday = shift(date, -weekday);
  const thursday = shift(monday, 3);
  const firstOfYear = Date.UTC(thursday.year, 0, 1);
  const week = Math.floor((Date.UTC(thursday.year, thursday.month - 1, thursday.day) - firstOfYear) / (7 * 86_400_000)) + 1;
  return { year: thursday.year, week, monday };
}

export interface PeriodBucket {
  /** `2026-11-26`, `2026-W48` or `2026-11`. */
  key: string;
  start: Date;
  end: Date;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function firstDay(local: LocalDate, granularity: Granularity): { key: string; first: LocalDate; next: LocalDate } {
  switch (granularity) {
    case 'day':
      return { key: `${local.year}-${pad(local.month)}-${pad(local.day)}`, first: local, next: shift(local, 1) };
    case 'week': {
      const { year, week, monday } = isoWeek(local);
      return { key: `${year}-W${pad(week)}`, first: monday, next: shift(monday, 7) };
    }
    case 'month': {
      const first = { year: local.year, month: local.month, day: 1 };
      const next = local.month === 12 ? { year: local.year + 1, month: 1, day: 1 } : { year: local.year, month: local.month + 1, day: 1 };
      return { key: `${local.year}-${pad(local.month)}`, first, next };
    }
  }
}

/**
 * Buckets for many instants. Asking the tz database costs far more than the rest of a report,
 * so buckets found are kept in order and an instant is first looked up among them by binary
 * search: a year of sales asks the tz database about once per bucket, not once per sale.
 */
export class PeriodBucketer {
  private readonly known: PeriodBucket[] = [];

  constructor(private readonly granularity: Granularity, private readonly timeZone: string) {}

  bucketOf(at: Date): PeriodBucket {
    const t = at.getTime();
    let low = 0;
    let high = this.known.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.known[middle] as PeriodBucket).end.getTime() <= t) low = middle + 1;
      else high = middle;
    }
    const candidate = this.known[low];
    if (candidate && candidate.start.getTime() <= t) return candidate;
    const { key, first, next } = firstDay(wallClock(at, this.timeZone), this.granularity);
    const bucket = { key, start: startOfLocalDate(first, this.timeZone), end: startOfLocalDate(next, this.timeZone) };
    this.known.splice(low, 0, bucket);
    return bucket;
  }
}

/** The complete day, ISO week or month before the one holding `now`, in the zone. */
export function previousPeriod(now: Date, granularity: Granularity, timeZone: string): PeriodBucket {
  const current = new PeriodBucketer(granularity, timeZone).bucketOf(now);
  return new PeriodBucketer(granularity, timeZone).bucketOf(new Date(current.start.getTime() - 1));
}
