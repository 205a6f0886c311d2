/**
 * Giving and taking roles. Nobody gives a role above their own or touches a user above their
 * own; the last active owner keeps the role (OwnerGuard). Taking a role away leaves the user
 * with none: they can no longer sign in and their sessions end.
 */
import { HttpError, inject, injectable, type Principal, type RoleName } from '../../core/index.js';
import { AuditLog } from '../audit/public.js';
import { IdentityAuthenticator } from './authenticator.js';
import { SessionStore } from './sessions.js';
import { assertMayGrant, assertMayManage, UserDirectory } from './user-directory.js';

export interface RoleChange {
  userId: string;
  role: RoleName | null;
  previousRole: RoleName | null;
}

@injectable()
export class RoleAssignments {
  constructor(
    @inject(UserDirectory) private readonly users: UserDirectory,
    @inject(SessionStore) private readonly sessions: SessionStore,
    @inject(AuditLog) private readonly audit: AuditLog,
    @inject(IdentityAuthenticator) private readonly authenticator: IdentityAuthenticator,
  ) {}

  async assign(actor: Principal, userId: string, role: RoleName, origin: { ip: string; requestId: string }): Promise<RoleChange> {
    assertMayGrant(actor, role);
    const target = await this.users.get(userId);
    assertMayManage(actor, target);
    if (target.role === role) return { userId, role, previousRole: role };
    const { before } = await this.users.setRole(userId, role);
    await this.recorded(actor, 'permissions.role-assigned', userId, before.role, role, origin);
    return { userId, role, previousRole: before.role };
  }

  async revoke(actor: Principal, userId: string, role: RoleName, origin: { ip: string; requestId: string }): Promise<RoleChange> {
    const target = await this.users.get(userId);
    assertMayManage(actor, target);
    if (target.role !== role) throw new HttpError(409, 'ROLE_NOT_HELD', `The user does not hold the role ${role}`, { role: target.role });
    const { before } = await this.users.setRole(userId, null);
    await this.sessions.revokeAllOf(userId, 'role revoked');
    await this.recorded(actor, 'permissions.role-revoked', userId, before.role, null, origin);
    return { userId, role: null, previousRole: before.role };
  }

  private async recorded(actor: Principal, action: string, userId: string, before: RoleName | null, after: RoleName | null, origin: { ip: string; requestId: string }): Promise<void> {
    // Open sockets of this user carry the old permissions: close them so they reconnect with the new ones.
    this.authenticator.dropRevokedSockets();
    await this.audit.record({ actor: this.audit.actorOf(actor), action, resource: { type: 'user', id: userId }, before: { role: before }, after: { role: after }, status: 200, ...origin });
  }
}
