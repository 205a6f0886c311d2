/**
 * The audit log: append-only entries for API mutations, sign-ins, role changes and workflow
 * steps (`audit.record@1`), sealed into a hash chain of signed digests so that any change to the
 * stored log is found and located by `GET /api/audit/verify` or `flowgate audit:verify`.
 * Other plugins record through the public service in public.ts.
 */
import { randomBytes } from 'node:crypto';
import { CoreError, type Plugin } from '../../core/index.js';
import { RecordAction } from './actions/record.js';
import { AuditLifecycle } from './audit-lifecycle.js';
import { AuditLog } from './audit-log.js';
import { VerifyCommand } from './commands/verify.js';
import { auditConfigSchema, AuditConfigToken, AuditKeysToken, type AuditConfig, type AuditKeys } from './config.js';
import { AuditExport } from './export.js';
import { PruneJob } from './jobs/prune.js';
import { SealJob } from './jobs/seal.js';
import { AuditCheckpointModel, AuditDigestModel } from './models/audit-digest.js';
import { AuditEntryModel } from './models/audit-entry.js';
import { Pseudonyms } from './redaction.js';
import { RetentionPruner } from './retention.js';
import { AuditRoutes } from './routes.js';
import { auditEntrySchema, recordInputSchema, recordOutputSchema, sealedEventSchema } from './schemas.js';
import { DigestSealer } from './sealer.js';
import { AuditSequence } from './sequence.js';
import { ChainVerification } from './verification.js';

/** The environment variables that set the keys. */
const ENVIRONMENT = { FLOWGATE_AUDIT_PSEUDONYM_KEY: 'pseudonymKey', FLOWGATE_AUDIT_SIGNING_KEY: 'signingKey' } as const;

/** Keys from the environment; only development and tests may run on per-process random keys. */
function auditKeys(config: AuditConfig): AuditKeys {
  const development = ['development', 'test'].includes(process.env.NODE_ENV ?? 'development');
  const missing = Object.entries(ENVIRONMENT).filter(([, setting]) => !config[setting]).map(([variable]) => variable);
  if (missing.length && !development) {
    throw new CoreError('AUDIT_KEY_MISSING', `Set ${missing.join(' and ')} (at least 32 characters each): the audit log needs them outside development`);
  }
  return {
    pseudonym: config.pseudonymKey ? Buffer.from(config.pseudonymKey) : randomBytes(32),
    signing: config.signingKey ? Buffer.from(config.signingKey) : randomBytes(32),
  };
}

const audit: Plugin<AuditConfig> = {
  manifest: {
    id: 'audit',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'Tamper-evident audit log: every change, who made it, sealed into a verifiable chain',
    configSchema: auditConfigSchema,
    environment: ENVIRONMENT,
  },
  register(r) {
    r.bind(AuditConfigToken).toConstantValue(r.config);
    r.bind(AuditKeysToken).toConstantValue(auditKeys(r.config));
    r.bind(Pseudonyms).toSelf().inSingletonScope();
    r.bind(AuditSequence).toSelf().inSingletonScope();
    r.bind(AuditLog).toSelf().inSingletonScope();
    r.bind(DigestSealer).toSelf().inSingletonScope();
    r.bind(ChainVerification).toSelf().inSingletonScope();
    r.bind(RetentionPruner).toSelf().inSingletonScope();
    r.bind(AuditExport).toSelf().inSingletonScope();
    r.model(AuditEntryModel);
    r.model(AuditDigestModel);
    r.model(AuditCheckpointModel);
    r.permissions({ 'audit:read': 'manager', 'audit:export': 'admin', 'audit:verify': 'admin' });
    r.action({
      type: 'record', version: 1, impl: RecordAction, idempotent: true,
      summary: 'Writes an audit entry with the execution as actor; the customer appears only as a pseudonym',
      input: recordInputSchema, output: recordOutputSchema,
    });
    r.routes(AuditRoutes);
    r.job({ name: 'audit.seal', handler: SealJob, concurrency: 1 });
    r.job({ name: 'audit.prune', handler: PruneJob, concurrency: 1 });
    r.topic({
      name: 'audit', permission: 'audit:read', summary: 'Each audit entry as it is written, and each digest as it is sealed',
      events: { 'audit.entry': auditEntrySchema, 'audit.sealed': sealedEventSchema },
    });
    r.command({
      name: 'audit:verify', summary: 'Verify the audit chain, or an export file offline', usage: '[--file export.ndjson|export.csv] [--json]', handler: VerifyCommand,
      help: 'Reads every digest and entry once, with a progress line on stderr; the findings go to stdout (--json: one JSON report).\nExit 0 when the chain is intact, 1 when an entry was modified, deleted, inserted or reordered, 2 on bad usage.',
    });
    r.lifecycle(AuditLifecycle);
  },
};

export default audit;
