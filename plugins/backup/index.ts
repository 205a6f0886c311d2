/**
 * Backup and restore: every collection plugins register with `backup: true`, streamed to gzip
 * Extended JSON with a manifest of counts and checksums; scheduled through Agenda, on demand
 * over HTTP and from the CLI; restored only after the whole archive is verified.
 */
import type { Plugin } from '../../core/index.js';
import { BackupAnnouncer, BACKUPS_TOPIC } from './announcer.js';
import { BackupService } from './backup-service.js';
import { CreateBackupCommand, ListBackupsCommand, RESTORE_USAGE, RestoreBackupCommand } from './commands/backup-commands.js';
import { backupConfigSchema, BackupConfigToken, type BackupConfig } from './config.js';
import { RunBackupJob } from './jobs/run-backup.js';
import { BackupScheduleModel } from './models/backup-schedule.js';
import { OperationLock } from './operation-lock.js';
import { RestoreService } from './restore-service.js';
import { BackupRoutes } from './routes.js';
import { BACKUP_JOB, BackupSchedule } from './schedule.js';
import { BackupStoreToken } from './storage/backup-store.js';
import { LocalBackupStore } from './storage/local-backup-store.js';

const progressEvent = {
  type: 'object',
  required: ['id', 'collection', 'documents', 'totalDocuments', 'phase'],
  properties: {
    id: { type: 'string' }, collection: { type: 'string' }, documents: { type: 'integer' }, totalDocuments: { type: 'integer' },
    bytes: { type: 'integer' }, phase: { enum: ['dump', 'verify', 'load', 'swap', 'check'] },
  },
};
const outcomeEvent = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };

const backup: Plugin<BackupConfig> = {
  manifest: {
    id: 'backup',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'Scheduled and on-demand backups of every registered collection; verified restores',
    configSchema: backupConfigSchema,
    environment: { BACKUP_DIR: 'dir', BACKUP_SIGNING_KEY: 'signingKey' },
  },
  register(r) {
    r.bind(BackupConfigToken).toConstantValue(r.config);
    r.bind(BackupStoreToken).toConstantValue(new LocalBackupStore(r.config.dir));
    r.bind(OperationLock).toSelf().inSingletonScope();
    r.bind(BackupAnnouncer).toSelf().inSingletonScope();
    r.bind(BackupSchedule).toSelf().inSingletonScope();
    r.bind(BackupService).toSelf().inSingletonScope();
    r.bind(RestoreService).toSelf().inSingletonScope();
    r.model(BackupScheduleModel);
    // Archives hold every customer's personal data: reading them is for admins, replacing the data for owners.
    r.permissions({ 'backups:read': 'admin', 'backups:create': 'admin', 'backups:schedule': 'admin', 'backups:restore': 'owner' });
    r.routes(BackupRoutes);
    r.job({ name: BACKUP_JOB, handler: RunBackupJob, concurrency: 1, lockLifetimeMs: 30 * 60_000 });
    r.command({ name: 'backup:create', aliases: ['backup'], summary: 'Back up every registered collection now, with a progress bar', handler: CreateBackupCommand });
    r.command({ name: 'backup:list', summary: 'List the backups, newest first', handler: ListBackupsCommand });
    r.command({
      name: 'backup:restore', aliases: ['restore'], summary: 'Verify a backup and show what a restore would replace; with --confirm, restore it',
      usage: RESTORE_USAGE.replace('usage: flowgate backup:restore ', ''), handler: RestoreBackupCommand,
    });
    r.topic({
      name: BACKUPS_TOPIC, permission: 'backups:read', summary: 'Progress and outcome of every backup and restore',
      events: {
        'backup.started': outcomeEvent, 'backup.progress': progressEvent, 'backup.completed': outcomeEvent, 'backup.failed': outcomeEvent,
        'restore.started': outcomeEvent, 'restore.progress': progressEvent, 'restore.completed': outcomeEvent, 'restore.failed': outcomeEvent,
      },
    });
  },
};

export default backup;
