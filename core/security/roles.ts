/**
 * The six roles and the permissions each holds. Plugins grant every permission they use to the
 * lowest role that may have it; a role holds its own grants and everything below it.
 */
import { CoreError } from '../errors.js';
import { ROLES, type RoleName } from '../plugin-api.js';

/**
 * owner 6 … viewer 1. A name outside the six (a stored typo, an older version's name) ranks 0:
 * below every role, so it holds no permission and may grant nothing.
 */
export const roleRank = (role: RoleName): number => {
  const index = ROLES.indexOf(role);
  return index < 0 ? 0 : ROLES.length - index;
};

/** True when `role` is one of the six and at least `required` in the hierarchy owner > admin > … > viewer. */
export const roleAtLeast = (role: RoleName, required: RoleName): boolean => roleRank(role) > 0 && roleRank(role) >= roleRank(required);

export class PermissionCatalog {
  private readonly minimumRole = new Map<string, { role: RoleName; plugin: string }>();

  grant(plugin: string, permission: string, role: RoleName): void {
    if (!/^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/.test(permission)) {
      throw new CoreError('PERMISSION_INVALID', `Plugin ${plugin} declares permission ${JSON.stringify(permission)}: expected resource:action in lower case`);
    }
    const existing = this.minimumRole.get(permission);
    if (existing && existing.role !== role) {
      throw new CoreError('PERMISSION_CONFLICT', `Permission ${permission} is granted to ${existing.role} by ${existing.plugin} and to ${role} by ${plugin}`);
    }
    this.minimumRole.set(permission, { role, plugin });
  }

  has(permission: string): boolean {
    return this.minimumRole.has(permission);
  }

  /** The lowest role holding `permission`. */
  lowestRoleFor(permission: string): RoleName | undefined {
    return this.minimumRole.get(permission)?.role;
  }

  permissionsOf(role: RoleName): Set<string> {
    const out = new Set<string>();
    for (const [permission, grant] of this.minimumRole) if (roleAtLeast(role, grant.role)) out.add(permission);
    return out;
  }

  all(): Array<{ permission: string; lowestRole: RoleName; plugin: string }> {
    return [...this.minimumRole].map(([permission, g]) => ({ permission, lowestRole: g.role, plugin: g.plugin }))
      .sort((a, b) => a.permission.localeCompare(b.permission));
  }
}
