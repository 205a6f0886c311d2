/**
 * Hands events to the workflow engine through the core's `WorkflowEvents`. The engine may not be
 * bound (it is optional in the container until the engine ships); then events are still stored
 * by this plugin and nothing is handed on, which is logged once.
 */
import type { Logger } from 'winston';
import { inject, injectable, LoggerToken, optional, WorkflowEventsToken, type SubmittedEvent, type TriggerEvent, type WorkflowEvents } from '../../../core/index.js';

@injectable()
export class WorkflowEventSink {
  private warned = false;

  constructor(
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(WorkflowEventsToken) @optional() private readonly engine: WorkflowEvents | undefined,
  ) {}

  get connected(): boolean {
    return this.engine !== undefined;
  }

  /** Submits the event; resolves null when no engine is bound. Throws when the engine fails (the caller retries later). */
  async submit(event: TriggerEvent): Promise<SubmittedEvent | null> {
    if (!this.engine) {
      if (!this.warned) this.logger.warn('no workflow engine is bound: WhatsApp events are stored but start no workflow');
      this.warned = true;
      return null;
    }
    return this.engine.submit(event);
  }
}
