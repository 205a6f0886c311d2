/**
 * The times a schedule fires, derived from the schedule alone so that every process agrees on
 * them without asking the others: a cron expression gives its own times (in its time zone), and
 * an interval fires on the multiples of its length since the Unix epoch ("15 minutes" at :00,
 * :15, :30 and :45; "1 day" at 00:00 UTC). Nothing about when or where a schedule was activated
 * enters the times, so processes that start, restart or race each other cannot shift them.
 */
import { CronExpressionParser } from 'cron-parser';
import humanInterval from 'human-interval';

/** Shorter intervals are refused: each fire is a stored event and an execution. */
export const MIN_INTERVAL_MS = 1_000;

export interface Timetable {
  /** The last time on the timetable at or before `at` (the occurrence due at `at`). */
  latestAtOrBefore(at: Date): Date;
  /** The first time on the timetable strictly after `at`. */
  nextAfter(at: Date): Date;
}

/** An interval as Agenda reads one: a number of milliseconds, or words such as "2 hours". */
function intervalMs(every: string): number | null {
  const trimmed = every.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ms = humanInterval(trimmed);
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

class IntervalTimetable implements Timetable {
  constructor(private readonly ms: number) {}

  latestAtOrBefore(at: Date): Date {
    return new Date(Math.floor(at.getTime() / this.ms) * this.ms);
  }

  nextAfter(at: Date): Date {
    return new Date((Math.floor(at.getTime() / this.ms) + 1) * this.ms);
  }
}

class CronTimetable implements Timetable {
  constructor(private readonly expression: string, private readonly timezone: string) {}

  latestAtOrBefore(at: Date): Date {
    // `prev` looks strictly before its start: start a millisecond later to include `at` itself.
    return this.from(new Date(at.getTime() + 1)).prev().toDate();
  }

  nextAfter(at: Date): Date {
    return this.from(at).next().toDate();
  }

  private from(currentDate: Date) {
    return CronExpressionParser.parse(this.expression, { currentDate, tz: this.timezone });
  }
}

/**
 * The timetable of `every` (an interval or a cron expression, read the way Agenda reads it) in
 * `timezone`; throws with a reason when it is neither, or an interval under a second.
 */
export function timetableOf(every: string, timezone: string): Timetable {
  const ms = intervalMs(every);
  if (ms !== null) {
    if (ms < MIN_INTERVAL_MS) throw new Error(`The interval "${every}" is shorter than ${MIN_INTERVAL_MS} ms`);
    return new IntervalTimetable(ms);
  }
  const timetable = new CronTimetable(every, timezone);
  try {
    timetable.nextAfter(new Date());
  } catch (error) {
    throw new Error(`"${every}" (${timezone}) is neither an interval nor a cron expression: ${(error as Error).message}`);
  }
  return timetable;
}
