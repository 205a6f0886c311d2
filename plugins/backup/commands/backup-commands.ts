/**
 * `flowgate backup:create`, `backup:list` and `backup:restore`: the same services as the HTTP
 * routes, with a progress bar on stderr and results on stdout.
 */
import { parseArgs } from 'node:util';
import { inject, injectable, HttpError, ProgressBar, type CommandHandler, type CommandIO } from '../../../core/index.js';
import type { ProgressReport } from '../announcer.js';
import { BackupService } from '../backup-service.js';
import { RestoreService } from '../restore-service.js';
import { databaseNameSchema } from '../schemas.js';

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const show = (bar: ProgressBar) => (report: ProgressReport) => bar.update(report.documents, report.totalDocuments, `${report.phase} ${report.collection}`);

/** Runs `work`, printing an HttpError as `flowgate: CODE: message` with exit code 1. */
async function reporting(io: CommandIO, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    io.stderr.write(`\nflowgate: ${error.code}: ${error.message}\n`);
    return error.status < 500 && error.status !== 409 && error.status !== 422 ? 2 : 1;
  }
}

@injectable()
export class CreateBackupCommand implements CommandHandler {
  constructor(@inject(BackupService) private readonly backups: BackupService) {}

  async run(args: readonly string[], io: CommandIO): Promise<number> {
    if (args.length) {
      io.stderr.write('usage: flowgate backup:create\n');
      return 2;
    }
    const bar = new ProgressBar(io.stderr, 'backup', { unit: 'documents' });
    return reporting(io, async () => {
      const manifest = await this.backups.create({ trigger: 'cli', actor: null, onProgress: show(bar) });
      bar.done(`backup ${manifest.id}: ${manifest.totals.documents} documents in ${manifest.collections.length} collections, ${megabytes(manifest.totals.bytes)}, ${(manifest.durationMs / 1000).toFixed(1)} s`);
      io.stdout.write(`${manifest.id}\n`);
      return 0;
    });
  }
}

@injectable()
export class ListBackupsCommand implements CommandHandler {
  constructor(@inject(BackupService) private readonly backups: BackupService) {}

  async run(_args: readonly string[], io: CommandIO): Promise<number> {
    const { items } = await this.backups.list(1000);
    for (const m of items) io.stdout.write(`${m.id}  ${m.trigger.padEnd(8)} ${String(m.totals.documents).padStart(10)} documents  ${megabytes(m.totals.bytes).padStart(10)}  app ${m.app.version}\n`);
    if (!items.length) io.stderr.write('no backups\n');
    return 0;
  }
}

@injectable()
export class RestoreBackupCommand implements CommandHandler {
  constructor(@inject(RestoreService) private readonly restores: RestoreService) {}

  async run(args: readonly string[], io: CommandIO): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({ args: [...args], allowPositionals: true, options: { into: { type: 'string' }, confirm: { type: 'string' } } });
    } catch (error) {
      io.stderr.write(`${(error as Error).message}\n${RESTORE_USAGE}\n`);
      return 2;
    }
    const [id, ...extra] = parsed.positionals;
    const into = parsed.values.into;
    if (!id || extra.length || (into !== undefined && !new RegExp(databaseNameSchema.pattern).test(into))) {
      io.stderr.write(`${RESTORE_USAGE}\n`);
      return 2;
    }
    const dryRun = parsed.values.confirm === undefined;
    const bar = new ProgressBar(io.stderr, dryRun ? 'verify' : 'restore', { unit: 'documents' });
    return reporting(io, async () => {
      const result = await this.restores.restore(id, { dryRun, confirm: parsed.values.confirm, targetDatabase: into, actor: null, onProgress: show(bar) });
      bar.done(dryRun ? `backup ${id} verified: ${result.documents} documents` : `backup ${id} restored into ${result.targetDatabase} and verified in ${((result.durationMs ?? 0) / 1000).toFixed(1)} s`);
      for (const c of result.collections) {
        io.stdout.write(`${dryRun ? `would ${c.action}` : 'restored'} ${c.name}: ${c.archiveDocuments} documents${c.action === 'replace' ? ` (now ${c.currentDocuments})` : ''}\n`);
      }
      if (result.untouched.length) io.stdout.write(`left as they are: ${result.untouched.join(', ')}\n`);
      if (dryRun) io.stdout.write(`to restore into ${result.targetDatabase}${result.currentDatabase ? ' (the current database; the scheduler and engine pause meanwhile)' : ''}, run:\n  flowgate backup:restore ${id}${into ? ` --into ${into}` : ''} --confirm ${result.confirmation}\n`);
      return 0;
    });
  }
}

export const RESTORE_USAGE = 'usage: flowgate backup:restore <backup id> [--into <database>] [--confirm <confirmation of the dry run>]';
