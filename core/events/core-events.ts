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
