/** What plugins that declare `dependsOn: ['audit']` may use. */
export { AuditLog, type AuditActor, type AuditRecord } from './audit-log.js';
export type { AuditEntryView } from './schemas.js';
