/** Request and response schemas of the backup routes; each exists once, types derive from them. */
import type { FromSchema } from 'json-schema-to-ts';
import { BACKUP_ID_PATTERN } from './archive/manifest.js';

export const backupIdSchema = { type: 'string', pattern: BACKUP_ID_PATTERN, description: 'Backup id, e.g. 20261126T070230123Z-a1b2c3' } as const;

/** A database name a restore may write into (never the server's own system databases). */
export const databaseNameSchema = { type: 'string', pattern: '^(?!(admin|local|config)$)[A-Za-z0-9_-]{1,63}$' } as const;

const collectionSummary = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'documents', 'bytes', 'sha256'],
  properties: {
    name: { type: 'string' },
    documents: { type: 'integer' },
    bytes: { type: 'integer' },
    sha256: { type: 'string' },
  },
} as const;

export const backupViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'appVersion', 'database', 'trigger', 'startedAt', 'finishedAt', 'durationMs', 'documents', 'bytes', 'collections'],
  properties: {
    id: backupIdSchema,
    appVersion: { type: 'string' },
    database: { type: 'string' },
    trigger: { enum: ['api', 'schedule', 'cli'] },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    durationMs: { type: 'integer' },
    documents: { type: 'integer' },
    bytes: { type: 'integer', description: 'Compressed size of all collection files' },
    collections: { type: 'array', items: collectionSummary },
    download: { type: 'string', description: 'Path of the streaming tar download' },
  },
} as const;
export type BackupView = FromSchema<typeof backupViewSchema>;

export const scheduleViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['enabled', 'nextRunAt'],
  properties: {
    enabled: { type: 'boolean' },
    every: { type: 'string' },
    timezone: { type: 'string' },
    keepLast: { type: 'integer' },
    nextRunAt: { type: ['string', 'null'], format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;
export type ScheduleView = FromSchema<typeof scheduleViewSchema>;

export const scheduleRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['enabled'],
  properties: {
    enabled: { type: 'boolean' },
    every: { type: 'string', minLength: 1, maxLength: 100, description: 'Cron expression ("0 3 * * *") or interval ("12 hours")' },
    timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA zone for cron expressions' },
    keepLast: { type: 'integer', minimum: 1, maximum: 10000, description: 'Archives kept; older ones are deleted after each successful backup' },
  },
} as const;

export const restoreRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dryRun: { type: 'boolean', default: true, description: 'Verify and describe only (the default)' },
    targetDatabase: { ...databaseNameSchema, description: 'Restore into this database instead of the current one' },
    confirm: { type: 'string', maxLength: 128, description: 'The `confirmation` of a dry run of the same backup and target' },
  },
} as const;
export type RestoreRequest = FromSchema<typeof restoreRequestSchema>;

const plannedCollection = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'archiveDocuments', 'currentDocuments', 'action'],
  properties: {
    name: { type: 'string' },
    archiveDocuments: { type: 'integer' },
    currentDocuments: { type: 'integer' },
    action: { enum: ['replace', 'create'] },
  },
} as const;

export const restoreResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dryRun', 'backupId', 'targetDatabase', 'currentDatabase', 'collections', 'untouched', 'documents'],
  properties: {
    dryRun: { type: 'boolean' },
    backupId: backupIdSchema,
    targetDatabase: { type: 'string' },
    currentDatabase: { type: 'boolean', description: 'True when the restore replaces the data this server runs on' },
    collections: { type: 'array', items: plannedCollection },
    untouched: { type: 'array', items: { type: 'string' }, description: 'Collections in the target that the archive does not contain; left as they are' },
    documents: { type: 'integer' },
    confirmation: { type: 'string', description: 'Pass as `confirm` with dryRun false to restore' },
    durationMs: { type: 'integer' },
    verified: { type: 'boolean', description: 'Counts and content digests of the restored collections match the archive' },
  },
} as const;
export type RestoreResult = FromSchema<typeof restoreResultSchema>;
