import { commonSchemas, HttpError, inject, injectable, PermissionCatalog, ROLES, roleAtLeast, type Principal, type RouteController, type RouteDefinition, type RoleName } from '../../../core/index.js';
import { RoleAssignments } from '../role-assignments.js';
import { roleSchema } from '../schemas.js';
import { UserDirectory } from '../user-directory.js';

const permissionList = { type: 'array', items: { type: 'string' } } as const;
const roleChangeSchema = {
  type: 'object', additionalProperties: false, required: ['userId', 'role', 'previousRole'],
  properties: { userId: { type: 'string' }, role: { anyOf: [roleSchema, { type: 'null' }] }, previousRole: { anyOf: [roleSchema, { type: 'null' }] } },
} as const;
const userPermissionsSchema = {
  type: 'object', additionalProperties: false, required: ['userId', 'role', 'roles', 'permissions'],
  properties: {
    userId: { type: 'string' },
    role: { anyOf: [roleSchema, { type: 'null' }] },
    roles: { type: 'array', items: roleSchema, description: 'The role and every role it includes' },
    permissions: permissionList,
  },
} as const;
const assignmentBody = {
  type: 'object', additionalProperties: false, required: ['userId', 'role'],
  properties: { userId: commonSchemas.objectId, role: roleSchema },
} as const;

const includedRoles = (role: RoleName | null): RoleName[] => (role ? ROLES.filter((r) => roleAtLeast(role, r)) : []);

@injectable()
export class PermissionRoutes implements RouteController {
  constructor(
    @inject(PermissionCatalog) private readonly catalog: PermissionCatalog,
    @inject(UserDirectory) private readonly users: UserDirectory,
    @inject(RoleAssignments) private readonly assignments: RoleAssignments,
  ) {}

  private permissionsOf(role: RoleName | null): string[] {
    return role ? [...this.catalog.permissionsOf(role)].sort() : [];
  }

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/permissions/roles', summary: 'The six roles, highest first, with the permissions each grants and holds', permission: 'permissions:read', tags: ['permissions'],
        responses: {
          200: {
            description: 'Roles',
            schema: {
              type: 'object', required: ['hierarchy', 'roles'],
              properties: {
                hierarchy: { type: 'array', items: roleSchema },
                roles: {
                  type: 'array',
                  items: {
                    type: 'object', additionalProperties: false, required: ['name', 'includes', 'grants', 'permissions'],
                    properties: { name: roleSchema, includes: { type: 'array', items: roleSchema }, grants: permissionList, permissions: permissionList },
                  },
                },
              },
            },
          },
        },
        handler: async () => {
          const all = this.catalog.all();
          return {
            body: {
              hierarchy: [...ROLES],
              roles: ROLES.map((name) => ({
                name,
                includes: includedRoles(name).filter((r) => r !== name),
                grants: all.filter((p) => p.lowestRole === name).map((p) => p.permission),
                permissions: this.permissionsOf(name),
              })),
            },
          };
        },
      },
      {
        method: 'get', path: '/api/permissions/me', summary: "The caller's role and effective permissions", permission: 'permissions:read', tags: ['permissions'],
        responses: {
          200: {
            description: 'The caller',
            schema: {
              type: 'object', additionalProperties: false, required: ['kind', 'id', 'role', 'roles', 'permissions'],
              properties: { kind: { type: 'string' }, id: { type: 'string' }, role: roleSchema, roles: { type: 'array', items: roleSchema }, permissions: permissionList },
            },
          },
        },
        handler: async (req) => {
          const principal = req.principal as Principal;
          return { body: { kind: principal.kind, id: principal.id, role: principal.role, roles: includedRoles(principal.role), permissions: [...principal.permissions].sort() } };
        },
      },
      {
        method: 'get', path: '/api/permissions/users/:userId', summary: "A user's role and permissions", permission: 'users:read', tags: ['permissions'],
        params: { type: 'object', additionalProperties: false, required: ['userId'], properties: { userId: commonSchemas.objectId } },
        responses: { 200: { description: 'The user', schema: userPermissionsSchema }, 404: { description: 'No such user' } },
        handler: async (req) => {
          const user = await this.users.get(req.params.userId as string);
          return { body: { userId: String(user._id), role: user.role, roles: includedRoles(user.role), permissions: this.permissionsOf(user.role) } };
        },
      },
      {
        method: 'post', path: '/api/permissions/assign', summary: 'Give a user a role, never above your own', permission: 'permissions:assign', tags: ['permissions'],
        body: assignmentBody,
        responses: {
          200: { description: 'The role now held', schema: roleChangeSchema },
          403: { description: 'The role, or the user, is above yours' },
          409: { description: 'It would leave no active owner' },
        },
        handler: async (req) => {
          const body = req.body as { userId: string; role: RoleName };
          return { body: await this.assignments.assign(req.principal as Principal, body.userId, body.role, { ip: req.ip, requestId: req.requestId }) };
        },
      },
      {
        method: 'post', path: '/api/permissions/revoke', summary: 'Take a role away: the user keeps no role, cannot sign in and is signed out', permission: 'permissions:assign', tags: ['permissions'],
        body: assignmentBody,
        responses: {
          200: { description: 'The role was taken away', schema: roleChangeSchema },
          403: { description: 'The user is above your role' },
          409: { description: 'The user does not hold the role, or is the last active owner' },
        },
        handler: async (req) => {
          const body = req.body as { userId: string; role: RoleName };
          return { body: await this.assignments.revoke(req.principal as Principal, body.userId, body.role, { ip: req.ip, requestId: req.requestId }) };
        },
      },
      {
        method: 'post', path: '/api/permissions/check', summary: 'Whether a user (default: you) holds each of some permissions', permission: 'permissions:read', tags: ['permissions'],
        body: {
          type: 'object', additionalProperties: false, required: ['permissions'],
          properties: {
            userId: commonSchemas.objectId,
            permissions: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: { type: 'string', pattern: '^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$' } },
          },
        },
        responses: {
          200: {
            description: 'One answer per permission; unknown permissions are never held',
            schema: {
              type: 'object', additionalProperties: false, required: ['userId', 'role', 'allowed', 'results', 'unknown'],
              properties: {
                userId: { type: 'string' }, role: { anyOf: [roleSchema, { type: 'null' }] }, allowed: { type: 'boolean', description: 'True when every permission is held' },
                results: { type: 'object', additionalProperties: { type: 'boolean' } }, unknown: permissionList,
              },
            },
          },
          403: { description: "Checking someone else's permissions needs users:read" },
        },
        handler: async (req) => {
          const principal = req.principal as Principal;
          const body = req.body as { userId?: string; permissions: string[] };
          let subject: { userId: string; role: RoleName | null; held: ReadonlySet<string> };
          if (!body.userId || body.userId === principal.id) {
            subject = { userId: principal.id, role: principal.role, held: principal.permissions };
          } else {
            if (!principal.permissions.has('users:read')) throw new HttpError(403, 'FORBIDDEN', "Checking another user's permissions needs users:read", { required: 'users:read', role: principal.role });
            const user = await this.users.get(body.userId);
            subject = { userId: body.userId, role: user.role, held: new Set(this.permissionsOf(user.role)) };
          }
          const results = Object.fromEntries(body.permissions.map((p) => [p, subject.held.has(p)]));
          return {
            body: {
              userId: subject.userId, role: subject.role, allowed: body.permissions.every((p) => subject.held.has(p)), results,
              unknown: body.permissions.filter((p) => !this.catalog.has(p)),
            },
          };
        },
      },
    ];
  }
}
