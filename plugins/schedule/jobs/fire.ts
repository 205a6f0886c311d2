import { inject, injectable, WorkflowEventsToken, type JobHandler, type WorkflowEvents } from '../../../core/index.js';

/** Runs on whichever process Agenda picks; the minute in the source id makes a double fire a no-op. */
@injectable()
export class ScheduleFireJob implements JobHandler<{ workflowId: string }> {
  constructor(@inject(WorkflowEventsToken) private readonly events: WorkflowEvents) {}

  async run(data: { workflowId: string }): Promise<void> {
    const firedAt = new Date();
    const minute = firedAt.toISOString().slice(0, 16);
    await this.events.submit({ type: 'schedule.cron@1', sourceId: `${data.workflowId}:${minute}`, payload: { firedAt: firedAt.toISOString() }, workflowId: data.workflowId });
  }
}
