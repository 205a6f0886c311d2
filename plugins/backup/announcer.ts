/**
 * Tells the world about backups and restores: progress on the `backups` socket topic (at most a
 * few events a second), and each outcome as a core `activity` event, which the audit plugin
 * records when it is loaded.
 */
import { inject, injectable, CoreEvents, Realtime, type Principal } from '../../core/index.js';

export const BACKUPS_TOPIC = 'backups';
const PROGRESS_INTERVAL_MS = 250;

export type Operation = 'backup' | 'restore';

export interface ProgressReport {
  id: string;
  collection: string;
  documents: number;
  totalDocuments: number;
  bytes: number;
  phase: 'dump' | 'verify' | 'load' | 'swap' | 'check';
}

@injectable()
export class BackupAnnouncer {
  private lastProgressAt = 0;

  constructor(@inject(Realtime) private readonly realtime: Realtime, @inject(CoreEvents) private readonly events: CoreEvents) {}

  started(operation: Operation, id: string, details: Record<string, unknown>): void {
    this.realtime.publish(BACKUPS_TOPIC, `${operation}.started`, { id, ...details });
  }

  /** Throttled, except when `force` (a collection finished). */
  progress(operation: Operation, report: ProgressReport, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.lastProgressAt = now;
    this.realtime.publish(BACKUPS_TOPIC, `${operation}.progress`, { ...report });
  }

  succeeded(operation: Operation, id: string, actor: Principal | null, details: Record<string, unknown>): void {
    this.realtime.publish(BACKUPS_TOPIC, `${operation}.completed`, { id, ...details });
    this.events.emit('activity', { action: `backup.${operation}.succeeded`, actor, resource: { type: 'backup', id }, outcome: 'succeeded', details });
  }

  failed(operation: Operation, id: string, actor: Principal | null, error: { code: string; message: string }): void {
    this.realtime.publish(BACKUPS_TOPIC, `${operation}.failed`, { id, error });
    this.events.emit('activity', { action: `backup.${operation}.failed`, actor, resource: { type: 'backup', id }, outcome: 'failed', details: { error } });
  }
}
