/**
 * Sign-in throttling under parallel guesses, API keys capped by their creator's current role,
 * stored role names outside the six, and sign-out with a refresh token someone else rotated.
 */
import assert from 'node:assert/strict';
import { Types } from 'mongoose';
import { MongoConnection } from '../../../core/index.js';
import { startIdentityServer, type IdentityTestServer } from './identity-host.js';

describe('identity: credential hardening', () => {
  describe('sign-in throttle under concurrent guesses', () => {
    let t: IdentityTestServer;
    before(async () => { t = await startIdentityServer({ label: 'hardening-throttle', identity: { loginThrottle: { accountLimit: 3, ipLimit: 10_000, windowSeconds: 60 } } }); });
    after(async () => { await t?.stop(); });

    it('checks no more than accountLimit passwords per window, even when the guesses arrive at once', async () => {
      const victim = await t.createUser('admin', 'victim');
      // 20 guesses sent together; the 7th is the right password.
      const guesses = Array.from({ length: 20 }, (_, i) => (i === 6 ? victim.password : `wrong guess number ${i}`));
      const answers = await Promise.all(guesses.map((password) => t.login(victim.email, password)));
      const statuses = answers.map((a) => a.status);
      const checked = statuses.filter((s) => s !== 429).length;
      assert.notEqual(answers[6]?.status, 200, `the 7th guess within the window (after 6 wrong ones) signed in: ${JSON.stringify(statuses)}`);
      assert.ok(checked <= 3, `with accountLimit 3, ${checked} passwords were checked in one window: ${JSON.stringify(statuses)}`);
    });
  });

  describe('API keys and the role of the person who made them', () => {
    let t: IdentityTestServer;
    before(async () => { t = await startIdentityServer({ label: 'hardening-keys' }); });
    after(async () => { await t?.stop(); });

    it('does not let a key act as admin after its creator was demoted to viewer', async () => {
      const { owner } = await t.roleUsers();
      const admin = await t.createUser('admin', 'leaving-admin');
      const created = await t.call<{ key: string }>('post', '/api/api-keys', admin.accessToken, { name: 'side door', role: 'admin' });
      assert.equal(created.status, 201);
      // The owner demotes the admin (e.g. on their last day).
      const demoted = await t.call('post', '/api/permissions/assign', owner.accessToken, { userId: admin.id, role: 'viewer' });
      assert.equal(demoted.status, 200, demoted.text);
      assert.equal((await t.call('get', '/api/users', admin.accessToken)).status, 403, 'the person is a viewer now');
      // The key they made as admin still creates admins.
      const viaKey = await t.request('post', '/api/users', {
        headers: { 'x-api-key': created.body.key },
        body: { email: 'backdoor@example.test', name: 'Backdoor', password: 'a long enough password', role: 'admin' },
      });
      assert.notEqual(viaKey.status, 201, `the demoted viewer's key created an admin: ${viaKey.status} ${viaKey.text}`);
    });
  });

  describe('a stored role name outside the six', () => {
    let t: IdentityTestServer;
    before(async () => { t = await startIdentityServer({ label: 'hardening-role-name' }); });
    after(async () => { await t?.stop(); });

    it('gives an account whose stored role is not one of the six no access, not owner powers', async () => {
      const user = await t.createUser('viewer', 'typo');
      // A migration script (or an archive from a version with other role names) wrote "Admin".
      await t.server.get(MongoConnection).connection.db?.collection('identity_users').updateOne({ _id: new Types.ObjectId(user.id) }, { $set: { role: 'Admin' } });
      const key = await t.call<{ role: string }>('post', '/api/api-keys', user.accessToken, { name: 'mine', role: 'owner' });
      assert.notEqual(key.status, 201, `an account with role "Admin" minted an owner API key: ${key.text}`);
    });
  });

  describe('sign-out with a refresh token someone else already rotated', () => {
    let t: IdentityTestServer;
    before(async () => { t = await startIdentityServer({ label: 'hardening-logout' }); });
    after(async () => { await t?.stop(); });

    it('ends the session (a superseded token at sign-out is a reuse), so the thief cannot refresh on', async () => {
      const victim = await t.createUser('admin', 'victim');
      // A thief copied the victim's refresh token and used it first.
      const stolen = await t.request<{ refreshToken: string }>('post', '/api/auth/refresh', { body: { refreshToken: victim.refreshToken } });
      assert.equal(stolen.status, 200);
      // The victim signs out; their access token has expired by now, so the client sends only its refresh token.
      const logout = await t.request('post', '/api/auth/logout', { body: { refreshToken: victim.refreshToken } });
      assert.equal(logout.status, 204);
      const thief = await t.request('post', '/api/auth/refresh', { body: { refreshToken: stolen.body.refreshToken } });
      assert.equal(thief.status, 401, `after the victim signed out, the thief still refreshes: ${thief.status}`);
    });
  });
});
