import { CoreEvents, inject, injectable, Scheduler, type CoreEventMap, type Logger, LoggerToken, type PluginLifecycle } from '../../core/index.js';
import { AuditLog } from './audit-log.js';
import { AuditConfigToken, type AuditConfig } from './config.js';

/**
 * Records every answered mutating API call, keeps the sequence counter ahead of stored entries,
 * and schedules sealing and retention once across all processes.
 */
@injectable()
export class AuditLifecycle implements PluginLifecycle {
  private running = false;

  constructor(
    @inject(AuditLog) private readonly log: AuditLog,
    @inject(CoreEvents) private readonly events: CoreEvents,
    @inject(Scheduler) private readonly scheduler: Scheduler,
    @inject(AuditConfigToken) private readonly config: AuditConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.log.resyncSequence();
    this.running = true;
    this.events.on('api.request', (event) => this.recordApiCall(event));
    await this.scheduler.every(this.config.sealEvery, 'audit.seal', {}, { key: 'audit.seal' });
    await this.scheduler.every(this.config.pruneEvery, 'audit.prune', {}, { key: 'audit.prune' });
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  private async recordApiCall(event: CoreEventMap['api.request']): Promise<void> {
    if (!this.running) return;
    const params = Object.keys(event.params).length ? this.log.scrubbed(event.params) as Record<string, string> : {};
    const id = Object.values(params).join('/');
    try {
      await this.log.record({
        actor: this.log.actorOf(event.principal),
        action: `${event.method} ${event.route}`,
        resource: { type: event.route.replace(/^\/api\//, '').split('/')[0] ?? event.route, ...(id ? { id } : {}) },
        after: event.body,
        status: event.status,
        ip: event.ip,
        requestId: event.requestId,
      });
    } catch (error) {
      this.logger.error('audit entry for an API call was not written', { route: event.route, requestId: event.requestId, error: (error as Error).message });
    }
  }
}
