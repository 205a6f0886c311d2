/**
 * The manifest that describes one archive. It is written last: an archive without one is not
 * an archive. On restore it is untrusted input (the archive may come from anywhere), so it is
 * validated against this schema before any of its names is used.
 */
import { createHmac } from 'node:crypto';
import type { FromSchema } from 'json-schema-to-ts';

export const ARCHIVE_FORMAT = 'flowgate-backup';
export const ARCHIVE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

/** Backup ids sort by time: `20261126T070230123Z-a1b2c3`. Nothing else can name an archive. */
export const BACKUP_ID_PATTERN = '^[0-9]{8}T[0-9]{9}Z-[a-f0-9]{6}$';
/** Collection files inside an archive: no separators, no leading dot. */
export const ARCHIVE_FILE_PATTERN = '^[0-9]{3}-[A-Za-z0-9_-]{1,80}\\.ndjson\\.gz$';
const sha256 = { type: 'string', pattern: '^[a-f0-9]{64}$' } as const;

export const collectionEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'file', 'documents', 'bytes', 'uncompressedBytes', 'sha256', 'contentDigest', 'indexes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 120, pattern: '^[^$\\u0000]+$' },
    model: { type: 'string' },
    file: { type: 'string', pattern: ARCHIVE_FILE_PATTERN },
    documents: { type: 'integer', minimum: 0 },
    bytes: { type: 'integer', minimum: 0, description: 'Size of the gzip file' },
    uncompressedBytes: { type: 'integer', minimum: 0 },
    sha256: { ...sha256, description: 'SHA-256 of the gzip file' },
    contentDigest: { ...sha256, description: 'Order-independent digest of the documents (see ContentDigest)' },
    indexes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'key'],
        properties: { name: { type: 'string' }, key: { type: 'object' } },
      },
    },
  },
} as const;

export const manifestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'formatVersion', 'id', 'app', 'database', 'trigger', 'startedAt', 'finishedAt', 'durationMs', 'collections', 'totals'],
  properties: {
    format: { const: ARCHIVE_FORMAT },
    formatVersion: { const: ARCHIVE_FORMAT_VERSION },
    id: { type: 'string', pattern: BACKUP_ID_PATTERN },
    app: {
      type: 'object', additionalProperties: false, required: ['name', 'version'],
      properties: { name: { type: 'string' }, version: { type: 'string' } },
    },
    database: { type: 'string' },
    trigger: { enum: ['api', 'schedule', 'cli'] },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    durationMs: { type: 'integer', minimum: 0 },
    collections: { type: 'array', items: collectionEntrySchema },
    totals: {
      type: 'object', additionalProperties: false, required: ['documents', 'bytes'],
      properties: { documents: { type: 'integer', minimum: 0 }, bytes: { type: 'integer', minimum: 0 } },
    },
    signature: { ...sha256, description: 'HMAC-SHA256 of the rest of the manifest, keyed by BACKUP_SIGNING_KEY (see manifestSignature)' },
  },
} as const;

export type Manifest = FromSchema<typeof manifestSchema>;
export type CollectionEntry = FromSchema<typeof collectionEntrySchema>;

/**
 * The manifest's HMAC-SHA256 under `key`, over its JSON without the signature. The manifest
 * holds every file's SHA-256 and content digest, so this one signature covers the whole archive:
 * without the key, no edit to any file can be made consistent again.
 */
export function manifestSignature(manifest: Manifest, key: string): string {
  const { signature: _signature, ...signed } = manifest;
  return createHmac('sha256', key).update(JSON.stringify(signed)).digest('hex');
}
