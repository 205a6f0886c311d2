import { HttpError, inject, injectable, notFound, type RouteController, type RouteDefinition } from '../../core/index.js';
import { AuditLog, type AuditQuery } from './audit-log.js';
import { AuditExport, type ExportFormat } from './export.js';
import { auditEntrySchema, auditPageSchema, verifyReportSchema } from './schemas.js';
import { ChainVerification } from './verification.js';

const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'nextCursor of the previous page' },
} as const;

const period = {
  from: { type: 'string', format: 'date-time' },
  to: { type: 'string', format: 'date-time' },
} as const;

interface ListQuery {
  actorKind?: string; actorId?: string; action?: string; resourceType?: string; resourceId?: string;
  phone?: string; customerId?: string; from?: string; to?: string; limit: number; cursor?: string;
}

@injectable()
export class AuditRoutes implements RouteController {
  constructor(
    @inject(AuditLog) private readonly log: AuditLog,
    @inject(AuditExport) private readonly exporter: AuditExport,
    @inject(ChainVerification) private readonly verification: ChainVerification,
  ) {}

  private async page(query: AuditQuery): Promise<{ items: unknown[]; nextCursor?: string }> {
    const items = await this.log.list(query);
    const last = items.at(-1);
    return { items, ...(items.length === query.limit && last ? { nextCursor: String(last.seq) } : {}) };
  }

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/audit/logs', summary: 'Audit entries, newest first, filtered by actor, action, resource, customer and time', permission: 'audit:read', tags: ['audit'],
        query: {
          type: 'object', additionalProperties: false,
          properties: {
            actorKind: { enum: ['user', 'apiKey', 'workflow', 'system', 'anonymous'] },
            actorId: { type: 'string', maxLength: 200 },
            action: { type: 'string', maxLength: 200 },
            resourceType: { type: 'string', maxLength: 200 },
            resourceId: { type: 'string', maxLength: 200 },
            phone: { type: 'string', pattern: '^\\+?[1-9]\\d{6,14}$', description: 'Entries about this customer (matched through its pseudonym)' },
            customerId: { type: 'string', maxLength: 200, description: 'Entries about this customer id (matched through its pseudonym)' },
            ...period, ...pageQuery,
          },
        },
        responses: { 200: { description: 'A page of entries', schema: auditPageSchema } },
        handler: async (req) => {
          const q = req.query as unknown as ListQuery;
          if (q.phone && q.customerId) throw new HttpError(400, 'AUDIT_ONE_SUBJECT', 'Filter by phone or by customerId, not both');
          const subject = q.phone ? this.log.pseudonym('phone', q.phone) : q.customerId ? this.log.pseudonym('customer', q.customerId) : undefined;
          return {
            body: await this.page({
              actorKind: q.actorKind, actorId: q.actorId, action: q.action, resourceType: q.resourceType, resourceId: q.resourceId, subject,
              from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined,
              beforeSeq: q.cursor ? Number(q.cursor) : undefined, limit: q.limit,
            }),
          };
        },
      },
      {
        method: 'get', path: '/api/audit/logs/:id', summary: 'One audit entry, with its seal once sealed', permission: 'audit:read', tags: ['audit'],
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } },
        responses: { 200: { description: 'The entry', schema: auditEntrySchema }, 404: { description: 'No such entry' } },
        handler: async (req) => {
          const entry = await this.log.get(req.params.id as string);
          if (!entry) throw notFound('Audit entry', req.params.id as string);
          return { body: entry };
        },
      },
      {
        method: 'get', path: '/api/audit/users/:userId', summary: "A user's action history, newest first", permission: 'audit:read', tags: ['audit'],
        params: { type: 'object', additionalProperties: false, required: ['userId'], properties: { userId: { type: 'string', minLength: 1, maxLength: 100 } } },
        query: { type: 'object', additionalProperties: false, properties: { ...period, ...pageQuery } },
        responses: { 200: { description: 'A page of entries', schema: auditPageSchema } },
        handler: async (req) => {
          const q = req.query as unknown as ListQuery;
          return {
            body: await this.page({
              actorKind: 'user', actorId: req.params.userId, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined,
              beforeSeq: q.cursor ? Number(q.cursor) : undefined, limit: q.limit,
            }),
          };
        },
      },
      {
        method: 'get', path: '/api/audit/export', summary: 'Stream entries of a period as NDJSON or CSV, with the digests that prove them', permission: 'audit:export', tags: ['audit'],
        query: {
          type: 'object', additionalProperties: false,
          properties: { format: { enum: ['ndjson', 'csv'], default: 'ndjson' }, ...period },
        },
        responses: {
          200: { description: 'A header record, the entries, then the digests (see docs/security.md)', contentType: ['application/x-ndjson', 'text/csv'] },
        },
        handler: async (req, res) => {
          const q = req.query as { format: ExportFormat; from?: string; to?: string };
          const from = q.from ? new Date(q.from) : undefined;
          const to = q.to ? new Date(q.to) : undefined;
          if (from && to && from > to) throw new HttpError(400, 'AUDIT_PERIOD_INVALID', '`from` is after `to`');
          res.setHeader('Content-Type', q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
          res.setHeader('Content-Disposition', `attachment; filename="audit-export.${q.format}"`);
          res.status(200);
          await this.exporter.write(res, q.format, { from, to });
          res.end();
          return undefined;
        },
      },
      {
        method: 'get', path: '/api/audit/verify', summary: 'Check the whole chain: which entries were modified, deleted, inserted or reordered', permission: 'audit:verify', tags: ['audit'],
        query: { type: 'object', additionalProperties: false, properties: { maxFindings: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 } } },
        responses: { 200: { description: 'The verification report; `ok` is false when anything was found', schema: verifyReportSchema } },
        handler: async (req) => ({ body: await this.verification.verify((req.query as { maxFindings: number }).maxFindings) }),
      },
    ];
  }
}
