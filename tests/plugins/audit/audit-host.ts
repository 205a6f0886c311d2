/** An audit-only test server (the static test authenticator supplies roles) and raw collection access. */
import { randomBytes } from 'node:crypto';
import type { Collection, Document } from 'mongodb';
import { MongoConnection, RedisConnection } from '../../../core/index.js';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';
import { AuditLog, type AuditRecord } from '../../../plugins/audit/public.js';
import { DigestSealer } from '../../../plugins/audit/sealer.js';
import { ChainVerification } from '../../../plugins/audit/verification.js';

/** A stored entry as the raw collection sees it (ids are strings). */
export type RawEntry = Document & { _id: string; seq: number };

export interface AuditTestServer extends TestServer {
  log: AuditLog;
  entries: Collection<RawEntry>;
  digests: Collection<Document>;
  /** Writes `count` entries by a test user. */
  record(count: number, overrides?: Partial<AuditRecord>): Promise<void>;
  /** Waits out the seal delay and seals everything written so far. */
  sealAll(): Promise<number>;
  verify(): ReturnType<ChainVerification['verify']>;
  /** Takes a sequence number without writing it, like a writer that crashed. */
  skipSequenceNumber(): Promise<number>;
}

export const SEAL_DELAY_MS = 150;

export async function startAuditServer(label: string, audit: Record<string, unknown> = {}): Promise<AuditTestServer> {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  const t = await startTestServer({
    label, plugins: ['audit', 'hello'],
    pluginSettings: { audit: { sealDelayMs: SEAL_DELAY_MS, pseudonymKey: 'p'.repeat(32), signingKey: 's'.repeat(32), ...audit } },
    config: { redis: { keyPrefix: prefix } },
  });
  const db = t.server.get(MongoConnection).connection.db;
  if (!db) throw new Error('not connected');
  const log = t.server.get(AuditLog);
  return {
    ...t,
    log,
    entries: db.collection<RawEntry>('audit_entries'),
    digests: db.collection('audit_digests'),
    async record(count, overrides = {}) {
      for (let i = 0; i < count; i++) {
        await log.record({ actor: { kind: 'user', id: 'u-1', role: 'admin' }, action: 'test.happened', resource: { type: 'thing', id: String(i) }, after: { n: i }, ...overrides });
      }
    },
    async sealAll() {
      await new Promise((r) => setTimeout(r, SEAL_DELAY_MS + 50));
      return t.server.get(DigestSealer).seal();
    },
    verify: () => t.server.get(ChainVerification).verify(),
    async skipSequenceNumber() {
      return t.server.get(RedisConnection).client.incr(`${prefix}audit:seq`);
    },
  };
}
