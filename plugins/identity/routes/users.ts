import { HttpError, inject, injectable, type Principal, type RoleName, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { AuditLog } from '../../audit/public.js';
import { IdentityAuthenticator } from '../authenticator.js';
import type { UserStatus } from '../models/user.js';
import { emailSchema, idParams, nameSchema, pageQuery, passwordSchema, roleSchema, userSchema, type UserView } from '../schemas.js';
import { assertMayGrant, toUserView, UserDirectory, type UserChanges } from '../user-directory.js';
import { auditOrigin } from './audit-origin.js';

/** What an audit entry keeps of a user: never the password hash. */
const auditView = (user: UserView) => ({ email: user.email, name: user.name, status: user.status, role: user.role });

@injectable()
export class UserRoutes implements RouteController {
  constructor(
    @inject(UserDirectory) private readonly users: UserDirectory,
    @inject(AuditLog) private readonly audit: AuditLog,
    @inject(IdentityAuthenticator) private readonly authenticator: IdentityAuthenticator,
  ) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/users', summary: 'People who can sign in, filtered by status, role or email', permission: 'users:read', tags: ['users'],
        query: { type: 'object', additionalProperties: false, properties: { status: { enum: ['active', 'disabled'] }, role: roleSchema, email: emailSchema, ...pageQuery } },
        responses: { 200: { description: 'A page of users', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: userSchema }, nextCursor: { type: 'string' } } } } },
        handler: async (req) => {
          const q = req.query as { status?: UserStatus; role?: RoleName; email?: string; limit: number; cursor?: string };
          const items = (await this.users.list({ status: q.status, role: q.role, email: q.email, afterId: q.cursor, limit: q.limit })).map(toUserView);
          const last = items.at(-1);
          return { body: { items, ...(items.length === q.limit && last ? { nextCursor: last.id } : {}) } };
        },
      },
      {
        method: 'post', path: '/api/users', summary: 'Create a user with a role no higher than your own', permission: 'users:write', tags: ['users'],
        body: {
          type: 'object', additionalProperties: false, required: ['email', 'name', 'password', 'role'],
          properties: { email: emailSchema, name: nameSchema, password: passwordSchema, role: roleSchema },
        },
        responses: { 201: { description: 'Created', schema: userSchema }, 403: { description: 'The role is above yours' }, 409: { description: 'The email is taken' } },
        handler: async (req) => {
          const body = req.body as { email: string; name: string; password: string; role: RoleName };
          assertMayGrant(req.principal as Principal, body.role);
          const user = toUserView(await this.users.create(body));
          await this.audit.record({ ...auditOrigin(this.audit, req), action: 'user.created', resource: { type: 'user', id: user.id }, after: auditView(user), status: 201 });
          return { status: 201, body: user };
        },
      },
      {
        method: 'get', path: '/api/users/:id', summary: 'One user', permission: 'users:read', tags: ['users'],
        params: idParams,
        responses: { 200: { description: 'The user', schema: userSchema }, 404: { description: 'No such user' } },
        handler: async (req) => ({ body: toUserView(await this.users.get(req.params.id as string)) }),
      },
      {
        method: 'put', path: '/api/users/:id', summary: 'Change name, status or password (roles change through /api/permissions)', permission: 'users:write', tags: ['users'],
        params: idParams,
        body: {
          type: 'object', additionalProperties: false, minProperties: 1,
          properties: { name: nameSchema, status: { enum: ['active', 'disabled'] }, password: passwordSchema },
        },
        responses: {
          200: { description: 'Updated', schema: userSchema },
          403: { description: 'The user is above your role' },
          409: { description: 'Disabling the last owner' },
        },
        handler: async (req) => {
          const { before, after } = await this.users.update(req.principal as Principal, req.params.id as string, req.body as UserChanges);
          if ((req.body as UserChanges).status === 'disabled' || (req.body as UserChanges).password) this.authenticator.dropRevokedSockets();
          const view = toUserView(after);
          await this.audit.record({
            ...auditOrigin(this.audit, req), action: 'user.updated', resource: { type: 'user', id: view.id }, status: 200,
            before: auditView(toUserView(before)), after: { ...auditView(view), ...((req.body as UserChanges).password ? { password: 'changed' } : {}) },
          });
          return { body: view };
        },
      },
      {
        method: 'delete', path: '/api/users/:id', summary: 'Delete a user and end their sessions', permission: 'users:write', tags: ['users'],
        params: idParams,
        responses: { 204: { description: 'Deleted' }, 403: { description: 'The user is above your role' }, 404: { description: 'No such user' }, 409: { description: 'The last owner' } },
        handler: async (req) => {
          if (req.principal?.kind === 'user' && req.principal.id === req.params.id && req.principal.role !== 'owner') {
            throw new HttpError(409, 'CANNOT_DELETE_SELF', 'Ask another administrator to delete your account');
          }
          const removed = await this.users.remove(req.principal as Principal, req.params.id as string);
          this.authenticator.dropRevokedSockets();
          await this.audit.record({ ...auditOrigin(this.audit, req), action: 'user.deleted', resource: { type: 'user', id: req.params.id as string }, before: auditView(toUserView(removed)), status: 204 });
          return { status: 204 };
        },
      },
    ];
  }
}
