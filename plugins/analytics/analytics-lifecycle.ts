import type { Logger } from 'winston';
import { CoreEvents, inject, injectable, LoggerToken, Scheduler, type PluginLifecycle } from '../../core/index.js';
import { AnalyticsConfigToken, type AnalyticsConfig } from './config.js';
import { PRUNE_JOB } from './jobs/prune-events.js';
import { EventRecorder } from './services/event-recorder.js';
import { EXECUTION_FINISHED } from './services/figures.js';
import { RecentActivity } from './services/recent-activity.js';
import { RollupBuffer } from './services/rollup-buffer.js';
import { RollupFlusher } from './services/rollup-flusher.js';

/**
 * Listens to the facts plugins report, schedules the retention job, and runs the two timers of
 * every process: the flush (with this process's liveness heartbeat) and the realtime push.
 */
@injectable()
export class AnalyticsLifecycle implements PluginLifecycle {
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    @inject(CoreEvents) private readonly coreEvents: CoreEvents,
    @inject(EventRecorder) private readonly recorder: EventRecorder,
    @inject(RollupFlusher) private readonly flusher: RollupFlusher,
    @inject(RollupBuffer) private readonly buffer: RollupBuffer,
    @inject(RecentActivity) private readonly recent: RecentActivity,
    @inject(Scheduler) private readonly scheduler: Scheduler,
    @inject(AnalyticsConfigToken) private readonly config: AnalyticsConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.coreEvents.on('analytics', (fact) => {
      if (!this.stopped) this.recorder.report(fact);
    });
    this.coreEvents.on('execution.finished', (execution) => {
      if (this.stopped) return;
      // One fact per execution and outcome: a failed execution retried to success counts once in each.
      this.recorder.report({
        id: `${EXECUTION_FINISHED}:${execution.executionId}:${execution.status}`, type: EXECUTION_FINISHED, occurredAt: new Date(),
        dimensions: { workflowId: execution.workflowId, status: execution.status, ...(execution.error ? { errorCode: execution.error.code } : {}) },
        value: execution.durationMs,
      });
    });
    await this.scheduler.every(this.config.pruneEvery, PRUNE_JOB, {}, { key: PRUNE_JOB });
    // Long enough that a process stalled by a busy machine is not taken for dead while its batch is in flight.
    const heartbeatMs = Math.max(30_000, 10 * this.config.flushEveryMs);
    await this.buffer.heartbeat(this.recorder.processId, heartbeatMs);
    this.every(this.config.flushEveryMs, 'flush', async () => {
      await this.buffer.heartbeat(this.recorder.processId, heartbeatMs);
      await this.flusher.flush();
    });
    this.every(this.config.realtimePushMs, 'realtime push', () => this.recent.pushIfChanged());
  }

  /** Runs `work` every `ms`, skipping a tick while the previous run is still going. */
  private every(ms: number, name: string, work: () => Promise<unknown>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      work().catch((error: Error) => this.logger.warn(`analytics ${name} failed`, { error: error.message })).finally(() => { running = false; });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    // What this process counted goes to the rollups now rather than at another process's next flush.
    await this.recorder.idle();
    await this.flusher.flush().catch((error: Error) => this.logger.warn('analytics final flush failed', { error: error.message }));
  }
}
