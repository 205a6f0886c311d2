import { inject, injectable, HttpError, type JobContext, type JobHandler } from '../../../core/index.js';
import { BackupService } from '../backup-service.js';

/** `backup.run`: the scheduled backup. A run that finds another backup or restore going is skipped. */
@injectable()
export class RunBackupJob implements JobHandler {
  constructor(@inject(BackupService) private readonly backups: BackupService) {}

  async run(_data: unknown, ctx: JobContext): Promise<void> {
    try {
      await this.backups.create({ trigger: 'schedule', actor: null });
    } catch (error) {
      if (error instanceof HttpError && error.code === 'BACKUP_IN_PROGRESS') {
        ctx.logger.warn('scheduled backup skipped: another backup or restore is running');
        return;
      }
      throw error;
    }
  }
}
