/**
 * Bucket boundaries in a time zone. Rollups are kept per UTC hour; a local day is the set of UTC
 * hours whose start falls on that local date. For zones whose offset is whole hours (almost all,
 * including both sides of every DST change) this is exact, and DST days have 23 or 25 hours. For
 * zones with 30- or 45-minute offsets (Asia/Kolkata, Asia/Kathmandu, Australia/Adelaide…) a local
 * day runs from the first UTC hour that starts on it, so the 30/45 minutes after local midnight
 * count with the previous day; answers say so with `exactDayBoundaries: false`.
 */
import { HttpError } from '../../../core/index.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

interface LocalTime { date: string; hour: number; minute: number }

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Resolves an IANA zone name, or throws a 400 that names it. */
export function timeZone(name: string): string {
  if (formatters.has(name)) return name;
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone: name, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    throw new HttpError(400, 'ANALYTICS_TIME_ZONE_UNKNOWN', `${JSON.stringify(name)} is not an IANA time zone name (e.g. Europe/Paris, Asia/Kolkata, UTC)`);
  }
  formatters.set(name, formatter);
  return name;
}

/** The local date (YYYY-MM-DD), hour and minute of an instant in `zone`. */
export function localTime(instant: number, zone: string): LocalTime {
  const formatter = formatters.get(timeZone(zone)) as Intl.DateTimeFormat;
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(instant)) parts[part.type] = part.value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), minute: Number(parts.minute) };
}

export const floorToHour = (instant: number): number => Math.floor(instant / HOUR_MS) * HOUR_MS;
export const utcDay = (instant: number): string => new Date(instant).toISOString().slice(0, 10);

/** The first UTC hour whose start falls on local date `date` (YYYY-MM-DD) or later: where that local day begins. */
export function startOfLocalDay(date: string, zone: string): number {
  // Offsets lie within -12h..+14h: start 15 hours before UTC midnight and walk forward.
  let instant = Date.parse(`${date}T00:00:00Z`) - 15 * HOUR_MS;
  while (localTime(instant, zone).date < date) instant += HOUR_MS;
  return instant;
}

/** The local date after `date`. */
export function nextDate(date: string): string {
  return utcDay(Date.parse(`${date}T00:00:00Z`) + DAY_MS);
}

/** The instants a period may touch: day keys and zone arithmetic assume four-digit years from 1970. */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 0, 1);
/** Real UTC offsets lie within -12:00..+14:00; the date-time format lets any hh:mm through. */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * Parses an instant parameter (RFC 3339 date-time), or throws 400 ANALYTICS_PERIOD_INVALID naming
 * it: impossible times (a leap second), offsets beyond ±14:00, and years outside 1970–9998.
 */
export function instant(value: string, name: string): number {
  const offset = /([+-])(\d{2}):?(\d{2})$/.exec(value);
  const parsed = Date.parse(value);
  const offsetMinutes = offset ? Number(offset[2]) * 60 + Number(offset[3]) : 0;
  if (!Number.isFinite(parsed) || offsetMinutes > MAX_OFFSET_MINUTES || parsed < EARLIEST || parsed >= LATEST) {
    throw new HttpError(400, 'ANALYTICS_PERIOD_INVALID', `\`${name}\` must be a real instant between 1970 and 9998 with an offset within ±14:00`, { [name]: value });
  }
  return parsed;
}

/** Parses a `from`/`to` parameter: a local date (its first hour in `zone`) or an instant floored to the hour. */
export function boundary(value: string, name: string, zone: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const start = instant(`${value}T00:00:00Z`, name);
    // A local day starts at most 14 hours before its UTC midnight: keep that inside the range too.
    instant(new Date(start - MAX_OFFSET_MINUTES * 60_000).toISOString(), name);
    instant(new Date(start + 2 * DAY_MS).toISOString(), name);
    return startOfLocalDay(value, zone);
  }
  return floorToHour(instant(value, name));
}
