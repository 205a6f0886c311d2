/**
 * Maintenance mode: while a restore (or similar) runs, the engine takes no new work and the
 * scheduler runs no jobs, on every process. The flag lives in Redis so that all processes see
 * it; each process also learns of changes at once through pub/sub.
 */
import { inject, injectable } from 'inversify';
import type { Logger } from 'winston';
import { RedisConnection } from './storage/redis.js';
import { LoggerToken } from './tokens.js';

export interface MaintenanceState {
  active: boolean;
  reason?: string;
  since?: string;
}

type Listener = (state: MaintenanceState) => void | Promise<void>;

@injectable()
export class Maintenance {
  private readonly listeners: Listener[] = [];
  private current: MaintenanceState = { active: false };

  constructor(@inject(RedisConnection) private readonly redis: RedisConnection, @inject(LoggerToken) private readonly logger: Logger) {}

  private get key(): string {
    return `${this.redis.keyPrefix}maintenance`;
  }

  /** Subscribes to changes made by any process; called once at boot. */
  async start(): Promise<void> {
    const subscriber = this.redis.duplicate('maintenance');
    await subscriber.connect();
    await subscriber.subscribe(this.key);
    subscriber.on('message', (_channel: string, message: string) => void this.apply(JSON.parse(message) as MaintenanceState));
    const stored = await this.redis.client.get(this.key);
    if (stored) await this.apply(JSON.parse(stored) as MaintenanceState);
  }

  get state(): MaintenanceState {
    return this.current;
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  async enter(reason: string): Promise<void> {
    const state: MaintenanceState = { active: true, reason, since: new Date().toISOString() };
    await this.redis.client.set(this.key, JSON.stringify(state));
    await this.redis.client.publish(this.key, JSON.stringify(state));
    await this.apply(state);
  }

  async exit(): Promise<void> {
    const state: MaintenanceState = { active: false };
    await this.redis.client.del(this.key);
    await this.redis.client.publish(this.key, JSON.stringify(state));
    await this.apply(state);
  }

  private async apply(state: MaintenanceState): Promise<void> {
    if (state.active === this.current.active) return;
    this.current = state;
    this.logger.warn(state.active ? 'maintenance mode on' : 'maintenance mode off', { reason: state.reason });
    for (const listener of this.listeners) {
      try {
        await listener(state);
      } catch (error) {
        this.logger.error('maintenance listener failed', { error: (error as Error).message });
      }
    }
  }
}
