import { inject, injectable, WorkflowEventsToken, type JobContext, type JobHandler, type WorkflowEvents } from '../../../core/index.js';

/**
 * Runs on whichever process Agenda picks. The event is keyed by the occurrence the run is for,
 * rounded to the second: processes that each recomputed the next run of an interval can see one
 * occurrence a few milliseconds apart (measured: 3 ms), and a second run of one fire must be a
 * duplicate event, while fires seconds apart (an interval under a minute) are each their own.
 */
@injectable()
export class ScheduleFireJob implements JobHandler<{ workflowId: string }> {
  constructor(@inject(WorkflowEventsToken) private readonly events: WorkflowEvents) {}

  async run(data: { workflowId: string }, ctx: JobContext): Promise<void> {
    const scheduledFor = ctx.scheduledFor.toISOString();
    const occurrence = new Date(Math.round(ctx.scheduledFor.getTime() / 1000) * 1000).toISOString();
    await this.events.submit({ type: 'schedule.cron@1', sourceId: `${data.workflowId}:${occurrence}`, payload: { firedAt: new Date().toISOString(), scheduledFor }, workflowId: data.workflowId });
  }
}
