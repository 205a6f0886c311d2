import { inject, injectable, commonSchemas, notFound, type ApiRequest, type RouteController, type RouteDefinition } from '../../core/index.js';
import type { Manifest } from './archive/manifest.js';
import { readManifest } from './archive/verifier.js';
import { tarLength, writeTar, type TarEntry } from './archive/tar.js';
import { BackupService } from './backup-service.js';
import { RestoreService } from './restore-service.js';
import { BackupSchedule } from './schedule.js';
import {
  backupIdSchema, backupViewSchema, restoreRequestSchema, restoreResultSchema, scheduleRequestSchema, scheduleViewSchema,
  type BackupView, type RestoreRequest,
} from './schemas.js';
import { BackupStoreToken, type BackupStore } from './storage/backup-store.js';
import { MANIFEST_FILE } from './archive/manifest.js';

const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: backupIdSchema } } as const;
const error = (description: string) => ({ description, schema: commonSchemas.errorEnvelope });

export function toBackupView(manifest: Manifest): BackupView {
  return {
    id: manifest.id,
    appVersion: manifest.app.version,
    database: manifest.database,
    trigger: manifest.trigger,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    durationMs: manifest.durationMs,
    documents: manifest.totals.documents,
    bytes: manifest.totals.bytes,
    collections: manifest.collections.map((c) => ({ name: c.name, documents: c.documents, bytes: c.bytes, sha256: c.sha256 })),
    download: `/api/backups/${manifest.id}/archive`,
  };
}

@injectable()
export class BackupRoutes implements RouteController {
  constructor(
    @inject(BackupService) private readonly backups: BackupService,
    @inject(RestoreService) private readonly restores: RestoreService,
    @inject(BackupSchedule) private readonly schedule: BackupSchedule,
    @inject(BackupStoreToken) private readonly store: BackupStore,
  ) {}

  routes(): RouteDefinition[] {
    return [
      {
        // Declared before `/api/backups/:id` so that express never reads "schedule" as an id.
        method: 'put', path: '/api/backups/schedule', summary: 'Set the backup schedule and retention', permission: 'backups:schedule',
        body: scheduleRequestSchema,
        responses: { 200: { description: 'The schedule now in force', schema: scheduleViewSchema }, 422: error('BACKUP_SCHEDULE_INVALID') },
        handler: async (req) => ({ body: await this.schedule.set(req.body as Parameters<BackupSchedule['set']>[0], req.principal?.id) }),
      },
      {
        method: 'post', path: '/api/backups', summary: 'Back up now; answers when the archive is complete (progress on the `backups` topic)', permission: 'backups:create',
        responses: { 201: { description: 'The completed backup', schema: backupViewSchema }, 409: error('BACKUP_IN_PROGRESS'), 500: error('BACKUP_FAILED') },
        handler: async (req) => {
          const manifest = await this.backups.create({ trigger: 'api', actor: req.principal });
          return { status: 201, body: toBackupView(manifest), headers: { Location: `/api/backups/${manifest.id}` } };
        },
      },
      {
        method: 'get', path: '/api/backups', summary: 'Backup history, newest first, with the schedule', permission: 'backups:read',
        query: {
          type: 'object', additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: backupIdSchema },
        },
        responses: {
          200: {
            description: 'A page of backups',
            schema: {
              type: 'object', additionalProperties: false, required: ['items', 'schedule'],
              properties: { items: { type: 'array', items: backupViewSchema }, nextCursor: backupIdSchema, schedule: scheduleViewSchema },
            },
          },
        },
        handler: async (req) => {
          const query = req.query as { limit: number; cursor?: string };
          const page = await this.backups.list(query.limit, query.cursor);
          return { body: { items: page.items.map(toBackupView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}), schedule: await this.schedule.get() } };
        },
      },
      {
        method: 'get', path: '/api/backups/:id', summary: 'One backup: counts, sizes, checksums, and where to download it', permission: 'backups:read',
        params: idParams,
        responses: { 200: { description: 'The backup', schema: backupViewSchema }, 404: error('NOT_FOUND'), 422: error('BACKUP_ARCHIVE_INVALID') },
        handler: async (req) => ({ body: toBackupView(await this.backups.get((req.params as { id: string }).id)) }),
      },
      {
        method: 'get', path: '/api/backups/:id/archive', summary: 'Download one backup as a tar stream (extract it into BACKUP_DIR to restore it elsewhere)', permission: 'backups:read',
        params: idParams,
        responses: { 200: { description: 'tar of the backup folder', contentType: 'application/x-tar', schema: { type: 'string', format: 'binary' } }, 404: error('NOT_FOUND') },
        handler: async (req, res) => this.download(req, res),
      },
      {
        method: 'post', path: '/api/backups/:id/restore', summary: 'Restore a backup: a dry run by default; with dryRun false and the dry run\'s confirmation, replaces the data', permission: 'backups:restore',
        params: idParams,
        body: restoreRequestSchema,
        responses: {
          200: { description: 'What would be (dry run) or was restored', schema: restoreResultSchema },
          404: error('NOT_FOUND'),
          409: error('BACKUP_IN_PROGRESS'),
          422: error('BACKUP_ARCHIVE_INVALID or BACKUP_ARCHIVE_CORRUPT: nothing was changed'),
          428: error('BACKUP_CONFIRMATION_REQUIRED'),
          500: error('BACKUP_RESTORE_FAILED: nothing was changed'),
        },
        handler: async (req) => {
          const body = req.body as RestoreRequest & { dryRun: boolean };
          const result = await this.restores.restore((req.params as { id: string }).id, {
            dryRun: body.dryRun, targetDatabase: body.targetDatabase, confirm: body.confirm, actor: req.principal,
          });
          return { body: result };
        },
      },
    ];
  }

  private async download(req: ApiRequest, res: Parameters<RouteDefinition['handler']>[1]): Promise<undefined> {
    const { id } = req.params as { id: string };
    if (!(await this.store.has(id))) throw notFound('Backup', id);
    const manifest = await readManifest(this.store, id);
    const entries: TarEntry[] = [];
    for (const file of [MANIFEST_FILE, ...manifest.collections.map((c) => c.file)]) {
      const opened = await this.store.read(id, file);
      if (!opened) throw notFound('Backup file', `${id}/${file}`);
      opened.stream.destroy();
      entries.push({ folder: id, name: file, size: opened.size, open: async () => (await this.store.read(id, file))?.stream ?? Promise.reject(new Error(`${file} disappeared`)) });
    }
    res.status(200);
    res.setHeader('Content-Type', 'application/x-tar');
    res.setHeader('Content-Length', String(tarLength(entries)));
    res.setHeader('Content-Disposition', `attachment; filename="flowgate-backup-${id}.tar"`);
    try {
      await writeTar(res, entries, new Date(manifest.finishedAt));
      res.end();
    } catch (failure) {
      // Headers are gone: the only honest signal left is to cut the connection.
      req.logger.error('backup download failed', { id, error: (failure as Error).message });
      res.destroy(failure as Error);
    }
    return undefined;
  }
}
