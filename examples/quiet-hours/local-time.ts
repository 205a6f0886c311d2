/**
 * Wall-clock arithmetic in IANA time zones with the runtime's Intl data, so the plugin needs no
 * time-zone library. Times of day are minutes after local midnight.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    // Throws RangeError for a zone the runtime does not know: callers check zones at boot.
    format = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
    formatters.set(zone, format);
  }
  return format;
}

/** Throws a RangeError naming the zone when the runtime does not know it. */
export function assertTimeZone(zone: string): void {
  formatter(zone);
}

/** `HH:MM` → minutes after midnight. */
export function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/** Minutes after local midnight of `at` in `zone`. */
export function localMinutes(at: Date, zone: string): number {
  const parts = formatter(zone).formatToParts(at);
  const value = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return value('hour') * 60 + value('minute');
}

/** Whether `minute` falls in [start, end), a window that may wrap past midnight (21:00–08:00). */
export function inWindow(minute: number, start: number, end: number): boolean {
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * The first instant after `at` whose local time in `zone` is `target` (minutes). Counting the
 * minutes forward is exact except across a daylight-saving change, so the result is checked
 * once and moved by the difference the change made.
 */
export function nextLocalTime(at: Date, zone: string, target: number): Date {
  const startOfMinute = Math.floor(at.getTime() / 60_000) * 60_000;
  const ahead = (target - localMinutes(at, zone) + 1440) % 1440 || 1440;
  let candidate = new Date(startOfMinute + ahead * 60_000);
  const drift = (target - localMinutes(candidate, zone) + 1440) % 1440;
  if (drift !== 0) candidate = new Date(candidate.getTime() + (drift > 720 ? drift - 1440 : drift) * 60_000);
  return candidate;
}
