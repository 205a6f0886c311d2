import { inject, injectable, WorkflowEventsToken, type JobContext, type JobHandler, type WorkflowEvents } from '../../../core/index.js';

/**
 * Runs on whichever process Agenda picks. The event is keyed by the occurrence the run is for,
 * the same in every process, so a second run of one fire is a duplicate event, while fires a
 * few seconds apart (an interval under a minute) are each their own.
 */
@injectable()
export class ScheduleFireJob implements JobHandler<{ workflowId: string }> {
  constructor(@inject(WorkflowEventsToken) private readonly events: WorkflowEvents) {}

  async run(data: { workflowId: string }, ctx: JobContext): Promise<void> {
    const scheduledFor = ctx.scheduledFor.toISOString();
    await this.events.submit({ type: 'schedule.cron@1', sourceId: `${data.workflowId}:${scheduledFor}`, payload: { firedAt: new Date().toISOString(), scheduledFor }, workflowId: data.workflowId });
  }
}
