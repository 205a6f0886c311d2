import type { FromSchema } from 'json-schema-to-ts';

export const backupConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dir', 'lockTtlMs', 'batchSize'],
  properties: {
    dir: { type: 'string', minLength: 1, default: '.data/backups', description: 'Folder of the local archive store (BACKUP_DIR), relative to the working directory' },
    lockTtlMs: {
      type: 'integer', minimum: 1000, default: 30000,
      description: 'How long the backup/restore lock outlives a process that died holding it',
    },
    batchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 1000, description: 'Documents per cursor batch and per insert while restoring' },
    signingKey: {
      type: 'string', minLength: 32, 'x-secret': true,
      description: 'HMAC key that signs each manifest (BACKUP_SIGNING_KEY); when set, only archives signed with it are restored',
    },
  },
} as const;

export type BackupConfig = FromSchema<typeof backupConfigSchema>;
export const BackupConfigToken = Symbol.for('backup.Config');
