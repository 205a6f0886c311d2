import {
  inject, injectable, RedisConnection, WorkflowEventsToken,
  type JobContext, type JobHandler, type WorkflowEvents,
} from '../../../core/index.js';
import { timetableOf, type Timetable } from '../timetable.js';

/** What the one Agenda job of a scheduled workflow carries: the schedule itself. */
export type FireData = { workflowId: string; every: string; timezone: string };

/**
 * How overdue a time on the schedule may be and still fire: runs come late when the servers are
 * busy (Agenda polls, and each run waits on the database) or the process holding the job died.
 * Beyond it, only the latest time due fires: after a downtime, one catch-up fire, not a burst.
 */
export const LATE_FIRE_GRACE_MS = 15_000;
/** A claim outlives the last moment its time can be fired by this much (other machines' clocks may lag). */
const CLAIM_MARGIN_MS = 60_000;

/**
 * Runs on whichever process Agenda picks, and fires the workflow for times on the schedule's own
 * timetable (timetable.ts), not for the time Agenda happened to run it. The run is for a time
 * (`ctx.scheduledFor`, the job's next run, which every run sets to the next time on the
 * timetable); it fires that time and any later ones due by now, in order, or only the latest one
 * due when the first is more than LATE_FIRE_GRACE_MS overdue. Each time is claimed in Redis
 * (`SET NX`) and fired only by its claimer, so a run that comes early, late or twice, on any
 * process, fires nothing extra. The time is also the event's idempotency key
 * (`<workflowId>:<time>`), which the engine deduplicates as well.
 */
@injectable()
export class ScheduleFireJob implements JobHandler<FireData> {
  constructor(
    @inject(WorkflowEventsToken) private readonly events: WorkflowEvents,
    @inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  async run(data: FireData, ctx: JobContext): Promise<void> {
    const timetable = timetableOf(data.every, data.timezone);
    // Agenda runs the job once this process's clock reaches its next run, a time on the
    // timetable: take that time when this clock lags the one that computed it.
    const now = new Date(Math.max(Date.now(), ctx.scheduledFor.getTime()));
    const meant = timetable.latestAtOrBefore(ctx.scheduledFor);
    const due = timetable.latestAtOrBefore(now);
    ctx.runNextAt(timetable.nextAfter(now));
    const first = now.getTime() - meant.getTime() <= LATE_FIRE_GRACE_MS ? meant : due;
    for (let at = first; at <= due; at = timetable.nextAfter(at)) await this.fire(data, at, timetable, ctx);
  }

  private async fire(data: FireData, at: Date, timetable: Timetable, ctx: JobContext): Promise<void> {
    // Held while a run could still fire this time: as the latest due, or within the grace.
    const firable = Math.max(timetable.nextAfter(at).getTime(), at.getTime() + LATE_FIRE_GRACE_MS);
    const claim = await this.redis.tryLock(`schedule.fire:${data.workflowId}:${at.getTime()}`, firable - Date.now() + CLAIM_MARGIN_MS);
    if (!claim) return;
    try {
      await this.events.submit({
        type: 'schedule.cron@1', sourceId: `${data.workflowId}:${at.toISOString()}`, workflowId: data.workflowId,
        payload: { firedAt: new Date().toISOString(), scheduledFor: at.toISOString() },
      });
    } catch (error) {
      // Not fired: leave the time to a run of another process.
      await claim.release();
      throw error;
    }
    ctx.logger.debug('schedule fired', { workflowId: data.workflowId, scheduledFor: at.toISOString() });
  }
}
