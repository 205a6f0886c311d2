import type { ApiRequest } from '../../../core/index.js';
import type { AuditLog } from '../../audit/public.js';

/** Who made the request and from where, as every audit entry of these routes states it. */
export function auditOrigin(audit: AuditLog, req: ApiRequest): { actor: ReturnType<AuditLog['actorOf']>; ip: string; requestId: string } {
  return { actor: audit.actorOf(req.principal), ip: req.ip, requestId: req.requestId };
}
