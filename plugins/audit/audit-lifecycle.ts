import { CoreEvents, inject, injectable, Scheduler, type CoreEventMap, type Logger, LoggerToken, type PluginLifecycle } from '../../core/index.js';
import { AuditLog } from './audit-log.js';
import { AuditConfigToken, type AuditConfig } from './config.js';

/**
 * Records every answered mutating API call and every reported activity, keeps the sequence counter ahead of stored entries,
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
    this.events.on('activity', (event) => this.recordActivity(event));
    await this.scheduler.every(this.config.sealEvery, 'audit.seal', {}, { key: 'audit.seal' });
    await this.scheduler.every(this.config.pruneEvery, 'audit.prune', {}, { key: 'audit.prune' });
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  /** Things done outside a request or after it (a scheduled backup, a restore from the CLI). */
  private async recordActivity(event: CoreEventMap['activity']): Promise<void> {
    if (!this.running) return;
    try {
      await this.log.record({
        // No principal means the system acted on its own (a scheduled job), not an anonymous caller.
        actor: event.actor ? this.log.actorOf(event.actor) : { kind: 'system', id: 'flowgate' },
        action: event.action,
        resource: event.resource,
        after: { outcome: event.outcome, ...(event.details ? { details: this.log.scrubbed(event.details) } : {}) },
      });
    } catch (error) {
      this.logger.error('audit entry for an activity was not written', { action: event.action, error: (error as Error).message });
    }
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
