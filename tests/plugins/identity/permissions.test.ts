import assert from 'node:assert/strict';
import { ROLES, type RoleName } from '../../../core/index.js';
import { OWNER, startIdentityServer, type IdentityTestServer, type SignedIn } from './identity-host.js';

type ErrorBody = { error: { code: string } };

describe('identity: roles and the permissions routes', () => {
  let t: IdentityTestServer;
  let users: Record<RoleName, SignedIn>;
  before(async () => {
    t = await startIdentityServer({ label: 'perms' });
    users = await t.roleUsers();
  });
  after(async () => { await t?.stop(); });

  it('lists the six roles, highest first, each including the ones below', async () => {
    const response = await t.call<{ hierarchy: string[]; roles: Array<{ name: RoleName; includes: string[]; grants: string[]; permissions: string[] }> }>('get', '/api/permissions/roles', users.viewer.accessToken);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.hierarchy, [...ROLES]);
    const byName = Object.fromEntries(response.body.roles.map((r) => [r.name, r]));
    assert.deepEqual(byName.viewer?.includes, []);
    assert.deepEqual(byName.owner?.includes, ROLES.slice(1));
    for (let i = 0; i < ROLES.length - 1; i++) {
      const higher = byName[ROLES[i] as RoleName]?.permissions ?? [];
      for (const permission of byName[ROLES[i + 1] as RoleName]?.permissions ?? []) assert.ok(higher.includes(permission), `${ROLES[i]} lacks ${permission}`);
    }
    assert.ok(byName.admin?.grants.includes('permissions:assign'));
    assert.ok(byName.manager?.grants.includes('audit:read'));
  });

  it("answers the caller's own permissions and another user's", async () => {
    const me = await t.call<{ role: string; permissions: string[] }>('get', '/api/permissions/me', users.analyst.accessToken);
    assert.equal(me.body.role, 'analyst');
    assert.equal(me.body.permissions.includes('audit:read'), false);
    const other = await t.call<{ role: string; roles: string[] }>('get', `/api/permissions/users/${users.agent.id}`, users.manager.accessToken);
    assert.equal(other.body.role, 'agent');
    assert.deepEqual(other.body.roles, ['agent', 'analyst', 'viewer']);
    assert.equal((await t.call('get', '/api/permissions/users/0123456789abcdef01234567', users.manager.accessToken)).status, 404);
  });

  it('checks permissions for yourself, and for others only with users:read', async () => {
    const self = await t.call<{ allowed: boolean; results: Record<string, boolean>; unknown: string[] }>('post', '/api/permissions/check', users.viewer.accessToken, { permissions: ['permissions:read', 'users:write', 'made:up'] });
    assert.equal(self.status, 200);
    assert.deepEqual(self.body.results, { 'permissions:read': true, 'users:write': false, 'made:up': false });
    assert.equal(self.body.allowed, false);
    assert.deepEqual(self.body.unknown, ['made:up']);
    assert.equal((await t.call('post', '/api/permissions/check', users.viewer.accessToken, { userId: users.admin.id, permissions: ['users:write'] })).status, 403);
    const forAdmin = await t.call<{ allowed: boolean }>('post', '/api/permissions/check', users.manager.accessToken, { userId: users.admin.id, permissions: ['users:write'] });
    assert.equal(forAdmin.body.allowed, true);
    assert.equal((await t.call('post', '/api/permissions/check', users.viewer.accessToken, { permissions: [] })).status, 400);
    assert.equal((await t.call('post', '/api/permissions/check', users.viewer.accessToken, { permissions: ['NotAPermission'] })).status, 400);
  });

  it('assigns a role at or below your own, effective on the next request', async () => {
    const user = await t.createUser('viewer', 'promoted');
    assert.equal((await t.call('get', '/api/users', user.accessToken)).status, 403);
    const assigned = await t.call<{ role: string; previousRole: string }>('post', '/api/permissions/assign', users.admin.accessToken, { userId: user.id, role: 'admin' });
    assert.equal(assigned.status, 200, assigned.text);
    assert.deepEqual([assigned.body.previousRole, assigned.body.role], ['viewer', 'admin']);
    assert.equal((await t.call('get', '/api/users', user.accessToken)).status, 200);
    const entries = await t.call<{ items: Array<{ summary: { before: { role: string }; after: { role: string } } }> }>('get', `/api/audit/logs?action=permissions.role-assigned&resourceId=${user.id}`, users.admin.accessToken);
    assert.deepEqual(entries.body.items[0]?.summary, { before: { role: 'viewer' }, after: { role: 'admin' } });
  });

  it('refuses roles above your own, users above your own, and callers without permissions:assign', async () => {
    const above = await t.call<ErrorBody>('post', '/api/permissions/assign', users.admin.accessToken, { userId: users.agent.id, role: 'owner' });
    assert.equal(above.status, 403);
    assert.equal(above.body.error.code, 'ROLE_ABOVE_OWN');
    const demoteOwner = await t.call<ErrorBody>('post', '/api/permissions/assign', users.admin.accessToken, { userId: users.owner.id, role: 'viewer' });
    assert.equal(demoteOwner.body.error.code, 'TARGET_ROLE_ABOVE_OWN');
    const manager = await t.call<ErrorBody>('post', '/api/permissions/assign', users.manager.accessToken, { userId: users.viewer.id, role: 'viewer' });
    assert.equal(manager.status, 403);
    assert.equal(manager.body.error.code, 'FORBIDDEN');
    assert.equal((await t.call('post', '/api/permissions/assign', users.admin.accessToken, { userId: users.viewer.id, role: 'emperor' })).status, 400);
    assert.equal((await t.call('post', '/api/permissions/assign', users.admin.accessToken, { userId: 'abc', role: 'viewer' })).status, 400);
    assert.equal((await t.call('post', '/api/permissions/assign', users.admin.accessToken, { userId: '0123456789abcdef01234567', role: 'viewer' })).status, 404);
  });

  it('revokes a role: no access, no sign-in, sessions ended', async () => {
    const user = await t.createUser('agent', 'revoked');
    assert.equal((await t.call<ErrorBody>('post', '/api/permissions/revoke', users.admin.accessToken, { userId: user.id, role: 'manager' })).body.error.code, 'ROLE_NOT_HELD');
    const revoked = await t.call<{ role: null }>('post', '/api/permissions/revoke', users.admin.accessToken, { userId: user.id, role: 'agent' });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.role, null);
    assert.equal((await t.call('get', '/api/permissions/me', user.accessToken)).status, 401);
    const login = await t.login(user.email, user.password);
    assert.equal(login.status, 403);
    assert.equal((login.body as unknown as ErrorBody).error.code, 'ACCOUNT_HAS_NO_ROLE');
  });

  it('never removes or demotes the last active owner', async () => {
    const owner = users.owner.accessToken;
    for (const [method, path, body] of [
      ['post', '/api/permissions/assign', { userId: users.owner.id, role: 'admin' }],
      ['post', '/api/permissions/revoke', { userId: users.owner.id, role: 'owner' }],
      ['put', `/api/users/${users.owner.id}`, { status: 'disabled' }],
      ['delete', `/api/users/${users.owner.id}`, undefined],
    ] as const) {
      const response = await t.call<ErrorBody>(method, path, owner, body);
      assert.equal(response.status, 409, `${method} ${path}: ${response.text}`);
      assert.equal(response.body.error.code, 'LAST_OWNER');
    }
    // With a second owner, the first may step down; then the second is the last one.
    const second = await t.createUser('agent', 'second-owner');
    assert.equal((await t.call('post', '/api/permissions/assign', owner, { userId: second.id, role: 'owner' })).status, 200);
    assert.equal((await t.call('post', '/api/permissions/assign', owner, { userId: users.owner.id, role: 'admin' })).status, 200);
    const fresh = await t.login(second.email, second.password);
    assert.equal((await t.call<ErrorBody>('post', '/api/permissions/revoke', fresh.body.accessToken, { userId: second.id, role: 'owner' })).body.error.code, 'LAST_OWNER');
    assert.equal((await t.call('post', '/api/permissions/assign', fresh.body.accessToken, { userId: users.owner.id, role: 'owner' })).status, 200);
    const ownerAgain = await t.login(OWNER.email, OWNER.password);
    assert.equal((await t.call<{ role: string }>('get', '/api/permissions/me', ownerAgain.body.accessToken)).body.role, 'owner');
  });

  it('lets only one of two racing demotions of the last two owners through', async () => {
    const a = await t.createUser('viewer', 'owner-a');
    const b = await t.createUser('viewer', 'owner-b');
    const ownerToken = (await t.login(OWNER.email, OWNER.password)).body.accessToken;
    for (const user of [a, b]) assert.equal((await t.call('post', '/api/permissions/assign', ownerToken, { userId: user.id, role: 'owner' })).status, 200);
    // Leave a and b as the only two owners, then race them against each other.
    const aToken = (await t.login(a.email, a.password)).body.accessToken;
    const others = await t.call<{ items: Array<{ id: string }> }>('get', '/api/users?role=owner&status=active', aToken);
    for (const other of others.body.items.filter((u) => u.id !== a.id && u.id !== b.id)) {
      assert.equal((await t.call('post', '/api/permissions/assign', aToken, { userId: other.id, role: 'admin' })).status, 200);
    }
    const bToken = (await t.login(b.email, b.password)).body.accessToken;
    const results = await Promise.all([
      t.call('post', '/api/permissions/assign', aToken, { userId: b.id, role: 'admin' }),
      t.call('post', '/api/permissions/assign', bToken, { userId: a.id, role: 'admin' }),
    ]);
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses ${statuses}`);
    assert.ok(statuses.some((s) => s === 409 || s === 403), `statuses ${statuses}`);
    const owners = await t.call<{ items: unknown[] }>('get', '/api/users?role=owner&status=active', aToken);
    assert.equal(owners.body.items.length, 1);
  });
});
