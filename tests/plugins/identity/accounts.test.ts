import assert from 'node:assert/strict';
import { startIdentityServer, type IdentityTestServer, type SignedIn } from './identity-host.js';
import type { RoleName } from '../../../core/index.js';

type ErrorBody = { error: { code: string } };
type User = { id: string; email: string; name: string; status: string; role: string | null };
type Key = { id: string; name: string; role: RoleName; key?: string; revokedAt: string | null };

describe('identity: users and API keys', () => {
  let t: IdentityTestServer;
  let users: Record<RoleName, SignedIn>;
  before(async () => {
    t = await startIdentityServer({ label: 'accounts' });
    users = await t.roleUsers();
  });
  after(async () => { await t?.stop(); });

  it('creates, lists, reads, updates and deletes users', async () => {
    const admin = users.admin.accessToken;
    const created = await t.call<User>('post', '/api/users', admin, { email: 'Ada@Example.test', name: 'Ada', password: 'analytical engine 1843', role: 'agent' });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.email, 'ada@example.test');
    assert.equal(JSON.stringify(created.body).includes('password'), false);
    const listed = await t.call<{ items: User[] }>('get', '/api/users?role=agent&limit=100', users.manager.accessToken);
    assert.ok(listed.body.items.some((u) => u.id === created.body.id));
    const byEmail = await t.call<{ items: User[] }>('get', '/api/users?email=ada@example.test', admin);
    assert.deepEqual(byEmail.body.items.map((u) => u.id), [created.body.id]);
    const renamed = await t.call<User>('put', `/api/users/${created.body.id}`, admin, { name: 'Ada Lovelace' });
    assert.equal(renamed.body.name, 'Ada Lovelace');
    assert.equal((await t.call<User>('get', `/api/users/${created.body.id}`, users.manager.accessToken)).body.name, 'Ada Lovelace');
    assert.equal((await t.call('delete', `/api/users/${created.body.id}`, admin)).status, 204);
    assert.equal((await t.call('get', `/api/users/${created.body.id}`, admin)).status, 404);
  });

  it('pages through users with a cursor', async () => {
    const first = await t.call<{ items: User[]; nextCursor?: string }>('get', '/api/users?limit=2', users.admin.accessToken);
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await t.call<{ items: User[] }>('get', `/api/users?limit=2&cursor=${first.body.nextCursor}`, users.admin.accessToken);
    assert.ok(second.body.items.length > 0);
    assert.equal(second.body.items.some((u) => first.body.items.some((f) => f.id === u.id)), false);
  });

  it('rejects bad user input with 4xx', async () => {
    const admin = users.admin.accessToken;
    assert.equal((await t.call<ErrorBody>('post', '/api/users', admin, { email: users.agent.email, name: 'Twin', password: 'long enough password', role: 'agent' })).body.error.code, 'EMAIL_TAKEN');
    assert.equal((await t.call('post', '/api/users', admin, { email: 'short@example.test', name: 'S', password: 'short', role: 'agent' })).status, 400);
    assert.equal((await t.call('post', '/api/users', admin, { email: 'x@example.test', name: 'X', password: 'long enough password', role: 'superuser' })).status, 400);
    assert.equal((await t.call('post', '/api/users', admin, { email: 'x@example.test', name: 'X', password: 'long enough password', role: 'agent', isAdmin: true })).status, 400);
    assert.equal((await t.call('put', `/api/users/${users.agent.id}`, admin, {})).status, 400);
    assert.equal((await t.call('put', `/api/users/${users.agent.id}`, admin, { role: 'owner' })).status, 400, 'roles change only through /api/permissions');
    assert.equal((await t.call('get', '/api/users/not-an-id', admin)).status, 400);
    assert.equal((await t.call('get', '/api/users?limit=0', admin)).status, 400);
  });

  it('refuses to create a user above your own role or to touch a user above you', async () => {
    const owner = await t.call<ErrorBody>('post', '/api/users', users.admin.accessToken, { email: 'boss@example.test', name: 'Boss', password: 'long enough password', role: 'owner' });
    assert.equal(owner.status, 403);
    assert.equal(owner.body.error.code, 'ROLE_ABOVE_OWN');
    const disable = await t.call<ErrorBody>('put', `/api/users/${users.owner.id}`, users.admin.accessToken, { status: 'disabled' });
    assert.equal(disable.status, 403);
    assert.equal(disable.body.error.code, 'TARGET_ROLE_ABOVE_OWN');
    assert.equal((await t.call('delete', `/api/users/${users.owner.id}`, users.admin.accessToken)).status, 403);
  });

  it('disabling a user ends their sessions and sign-ins', async () => {
    const user = await t.createUser('agent', 'disabled');
    assert.equal((await t.call('put', `/api/users/${user.id}`, users.admin.accessToken, { status: 'disabled' })).status, 200);
    assert.equal((await t.call('get', '/api/permissions/me', user.accessToken)).status, 401);
    assert.equal((await t.login(user.email, user.password)).status, 403);
  });

  it('a new password ends existing sessions', async () => {
    const user = await t.createUser('agent', 'repass');
    assert.equal((await t.call('put', `/api/users/${user.id}`, users.admin.accessToken, { password: 'a brand new password' })).status, 200);
    assert.equal((await t.call('get', '/api/permissions/me', user.accessToken)).status, 401);
    assert.equal((await t.login(user.email, 'a brand new password')).status, 200);
  });

  it('shows an API key once, stores it hashed, and lets it act with its role', async () => {
    const created = await t.call<Key>('post', '/api/api-keys', users.admin.accessToken, { name: 'crm sync', role: 'manager' });
    assert.equal(created.status, 201, created.text);
    const key = created.body.key as string;
    assert.match(key, /^fgk_[a-f0-9]{24}_/);
    const read = await t.call<Key>('get', `/api/api-keys/${created.body.id}`, users.admin.accessToken);
    assert.equal(read.body.key, undefined);
    const list = await t.call<{ items: Key[] }>('get', '/api/api-keys', users.admin.accessToken);
    // The secret is base64url and may itself contain '_': take everything after the id.
    const secret = key.slice('fgk_'.length + 24 + 1);
    assert.equal(secret.length, 43);
    assert.equal(JSON.stringify(list.body).includes(secret), false);
    const asKey = await t.request<{ kind: string; role: string }>('get', '/api/permissions/me', { headers: { 'x-api-key': key } });
    assert.equal(asKey.status, 200);
    assert.deepEqual([asKey.body.kind, asKey.body.role], ['apiKey', 'manager']);
    assert.equal((await t.request('get', '/api/users', { headers: { 'x-api-key': key } })).status, 200);
    assert.equal((await t.request('post', '/api/permissions/assign', { headers: { 'x-api-key': key }, body: { userId: users.viewer.id, role: 'agent' } })).status, 403);
    const renamed = await t.call<Key>('put', `/api/api-keys/${created.body.id}`, users.admin.accessToken, { name: 'crm sync v2' });
    assert.equal(renamed.body.name, 'crm sync v2');
    assert.equal((await t.call('delete', `/api/api-keys/${created.body.id}`, users.admin.accessToken)).status, 204);
    const revoked = await t.request<ErrorBody>('get', '/api/permissions/me', { headers: { 'x-api-key': key } });
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error.code, 'API_KEY_INVALID');
  });

  it('refuses API keys above your role, forged keys and expired keys', async () => {
    assert.equal((await t.call<ErrorBody>('post', '/api/api-keys', users.admin.accessToken, { name: 'root', role: 'owner' })).body.error.code, 'ROLE_ABOVE_OWN');
    assert.equal((await t.request('get', '/api/permissions/me', { headers: { 'x-api-key': `fgk_${'0'.repeat(24)}_${'A'.repeat(43)}` } })).status, 401);
    assert.equal((await t.request('get', '/api/permissions/me', { headers: { 'x-api-key': 'nonsense' } })).status, 401);
    const soon = await t.call<Key>('post', '/api/api-keys', users.admin.accessToken, { name: 'short-lived', role: 'viewer', expiresAt: new Date(Date.now() + 300).toISOString() });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await t.request('get', '/api/permissions/me', { headers: { 'x-api-key': soon.body.key as string } })).status, 401);
    assert.equal((await t.call('post', '/api/api-keys', users.admin.accessToken, { name: 'x', role: 'viewer', expiresAt: 'tomorrow' })).status, 400);
  });
});
