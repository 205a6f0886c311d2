import { inject, injectable, type Principal, type RouteController, type RouteDefinition, type RoleName } from '../../../core/index.js';
import { AuditLog } from '../../audit/public.js';
import { ApiKeyRegistry, toApiKeyView } from '../api-keys.js';
import { IdentityAuthenticator } from '../authenticator.js';
import { apiKeySchema, idParams, nameSchema, pageQuery, roleSchema } from '../schemas.js';
import { auditOrigin } from './audit-origin.js';

@injectable()
export class ApiKeyRoutes implements RouteController {
  constructor(
    @inject(ApiKeyRegistry) private readonly keys: ApiKeyRegistry,
    @inject(AuditLog) private readonly audit: AuditLog,
    @inject(IdentityAuthenticator) private readonly authenticator: IdentityAuthenticator,
  ) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/api-keys', summary: 'API keys (never their secrets)', permission: 'api-keys:read', tags: ['api-keys'],
        query: { type: 'object', additionalProperties: false, properties: { includeRevoked: { type: 'boolean', default: false }, ...pageQuery } },
        responses: { 200: { description: 'A page of keys', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: apiKeySchema }, nextCursor: { type: 'string' } } } } },
        handler: async (req) => {
          const q = req.query as { includeRevoked: boolean; limit: number; cursor?: string };
          const items = (await this.keys.list({ includeRevoked: q.includeRevoked, afterId: q.cursor, limit: q.limit })).map(toApiKeyView);
          const last = items.at(-1);
          return { body: { items, ...(items.length === q.limit && last ? { nextCursor: last.id } : {}) } };
        },
      },
      {
        method: 'post', path: '/api/api-keys', summary: 'Create a key with a role no higher than yours; the key is in this response only', permission: 'api-keys:write', tags: ['api-keys'],
        body: {
          type: 'object', additionalProperties: false, required: ['name', 'role'],
          properties: { name: nameSchema, role: roleSchema, expiresAt: { type: 'string', format: 'date-time' } },
        },
        responses: { 201: { description: 'Created, with `key`', schema: apiKeySchema }, 403: { description: 'The role is above yours' } },
        handler: async (req) => {
          const body = req.body as { name: string; role: RoleName; expiresAt?: string };
          const { key, record } = await this.keys.create(req.principal as Principal, { name: body.name, role: body.role, expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined });
          const view = toApiKeyView(record);
          await this.audit.record({ ...auditOrigin(this.audit, req), action: 'api-key.created', resource: { type: 'api-key', id: view.id }, after: { name: view.name, role: view.role, expiresAt: view.expiresAt }, status: 201 });
          return { status: 201, body: { ...view, key } };
        },
      },
      {
        method: 'get', path: '/api/api-keys/:id', summary: 'One API key (without its secret)', permission: 'api-keys:read', tags: ['api-keys'],
        params: idParams,
        responses: { 200: { description: 'The key', schema: apiKeySchema }, 404: { description: 'No such key' } },
        handler: async (req) => ({ body: toApiKeyView(await this.keys.get(req.params.id as string)) }),
      },
      {
        method: 'put', path: '/api/api-keys/:id', summary: "Rename a key or change its role (never above yours)", permission: 'api-keys:write', tags: ['api-keys'],
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { name: nameSchema, role: roleSchema } },
        responses: { 200: { description: 'Updated', schema: apiKeySchema }, 403: { description: 'A role above yours' }, 404: { description: 'No such key' } },
        handler: async (req) => {
          const { before, after } = await this.keys.update(req.principal as Principal, req.params.id as string, req.body as { name?: string; role?: RoleName });
          if (before.role !== after.role) this.authenticator.dropRevokedSockets();
          await this.audit.record({ ...auditOrigin(this.audit, req), action: 'api-key.updated', resource: { type: 'api-key', id: String(after._id) }, before: { name: before.name, role: before.role }, after: { name: after.name, role: after.role }, status: 200 });
          return { body: toApiKeyView(after) };
        },
      },
      {
        method: 'delete', path: '/api/api-keys/:id', summary: 'Revoke a key at once (its open sockets close too)', permission: 'api-keys:write', tags: ['api-keys'],
        params: idParams,
        responses: { 204: { description: 'Revoked' }, 404: { description: 'No such key' } },
        handler: async (req) => {
          const key = await this.keys.revoke(req.principal as Principal, req.params.id as string);
          this.authenticator.dropRevokedSockets();
          await this.audit.record({ ...auditOrigin(this.audit, req), action: 'api-key.revoked', resource: { type: 'api-key', id: String(key._id) }, before: { name: key.name, role: key.role }, status: 204 });
          return { status: 204 };
        },
      },
    ];
  }
}
