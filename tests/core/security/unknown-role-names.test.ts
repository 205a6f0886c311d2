/**
 * A role name that is not one of the six ranks below every role and holds no permission.
 */
import assert from 'node:assert/strict';
import { PermissionCatalog, roleAtLeast, type RoleName } from '../../../core/index.js';

describe('core: role ranks of unknown role names', () => {
  it('gives a role name outside the hierarchy no rank and no permissions', () => {
    const catalog = new PermissionCatalog();
    catalog.grant('backup', 'backups:restore', 'owner');
    catalog.grant('identity', 'permissions:read', 'viewer');
    // e.g. a user document whose role was written as "Admin" by a script, or kept from an older version's role names.
    const unknown = 'Admin' as RoleName;
    assert.equal(roleAtLeast(unknown, 'owner'), false, 'an unknown role name ranks above owner');
    assert.deepEqual([...catalog.permissionsOf(unknown)], [], 'an unknown role name holds every permission, owner-only ones included');
  });
});
