/**
 * In-process notifications between the core and plugins, typed by name. Used for things every
 * plugin may want to observe without the core knowing who listens (the audit plugin records
 * API calls from `api.request`). Listeners must not throw; errors are logged.
 */
import { EventEmitter } from 'node:events';
import { inject, injectable } from 'inversify';
import type { Logger } from 'winston';
import type { Principal } from '../plugin-api.js';
import { LoggerToken } from '../tokens.js';

export interface CoreEventMap {
  /** After a mutating API request (POST, PUT, PATCH, DELETE) was answered. */
  'api.request': {
    method: string;
    /** The declared route path, e.g. `/api/messages/:id`. */
    route: string;
    params: Record<string, string>;
    status: number;
    principal: Principal | null;
    requestId: string;
    ip: string;
    /** The validated body with secret-looking fields removed. */
    body: unknown;
  };
  /** An execution ended (succeeded, failed or cancelled); analytics and audit listen. */
  'execution.finished': {
    executionId: string;
    workflowId: string;
    workflowVersion: number;
    status: 'succeeded' | 'failed' | 'cancelled';
    durationMs: number;
    error: { code: string; message: string; stepId?: string } | null;
  };
  /**
   * Something worth an audit entry happened outside an API request, or took longer than one:
   * a scheduled backup, a restore run from the CLI. `actor` is null for the system itself.
   */
  'activity': {
    /** `plugin.verb`, e.g. `backup.completed`. */
    action: string;
    actor: Principal | null;
    resource: { type: string; id: string };
    outcome: 'succeeded' | 'failed';
    details?: Record<string, unknown>;
  };
  /**
   * A countable business fact (message sent, opt-out, sale recorded…) for whoever keeps figures.
   * `id` is derived from what the fact is about (e.g. the message id and its status), so a fact
   * reported twice, after a redelivered webhook or a resumed execution, is counted once.
   */
  'analytics': {
    id: string;
    /** `area.fact`, e.g. `message.delivered`, `consent.opted_out`, `sale.recorded`. */
    type: string;
    occurredAt: Date;
    /** What a figure can be broken down by: phoneNumberId, workflowId, templateName, campaignId, agentId, currency… */
    dimensions: Record<string, string>;
    /** A quantity to sum besides the count, e.g. a sale's amount in minor units. */
    value?: number;
  };
}

@injectable()
export class CoreEvents {
  private readonly emitter = new EventEmitter();

  constructor(@inject(LoggerToken) private readonly logger: Logger) {
    this.emitter.setMaxListeners(100);
  }

  on<K extends keyof CoreEventMap>(name: K, listener: (payload: CoreEventMap[K]) => void | Promise<void>): void {
    this.emitter.on(name, (payload: CoreEventMap[K]) => {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((error: Error) => this.logger.error('core event listener failed', { event: name, error: error.message }));
      } catch (error) {
        this.logger.error('core event listener failed', { event: name, error: (error as Error).message });
      }
    });
  }

  emit<K extends keyof CoreEventMap>(name: K, payload: CoreEventMap[K]): void {
    this.emitter.emit(name, payload);
  }
}
