import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { OWNER, startIdentityServer, type IdentityTestServer, type SignedIn } from './identity-host.js';

type Tokens = { accessToken: string; refreshToken: string; expiresIn: number; tokenType: string };
type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

describe('identity: sign-in, refresh, sign-out', () => {
  let t: IdentityTestServer;
  before(async () => { t = await startIdentityServer({ label: 'signin' }); });
  after(async () => { await t?.stop(); });

  it('signs in the first owner created from the environment, with a short-lived HS256 token', async () => {
    const response = await t.login(OWNER.email.toUpperCase(), OWNER.password);
    assert.equal(response.status, 200, response.text);
    const body = response.body as unknown as Tokens & { user: { role: string; email: string } };
    assert.equal(body.tokenType, 'Bearer');
    assert.equal(body.expiresIn, 900);
    assert.equal(body.user.role, 'owner');
    assert.equal(body.user.email, OWNER.email);
    const [header] = body.accessToken.split('.') as [string];
    assert.equal(JSON.parse(Buffer.from(header, 'base64url').toString()).alg, 'HS256');
    const claims = decodeJwt(body.accessToken);
    assert.equal((claims.exp as number) - (claims.iat as number), 900);
    assert.equal(claims.aud, 'flowgate-api');
    assert.equal(claims.iss, 'flowgate');
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    const wrong = await t.login(OWNER.email, 'not the password at all');
    const unknown = await t.login('nobody@example.test', 'whatever password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal((wrong.body as unknown as ErrorBody).error.code, 'INVALID_CREDENTIALS');
    assert.equal((unknown.body as unknown as ErrorBody).error.message, (wrong.body as unknown as ErrorBody).error.message);
  });

  it('rejects malformed sign-in requests with 4xx', async () => {
    assert.equal((await t.request('post', '/api/auth/login', { rawBody: '{"email":', headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal((await t.request('post', '/api/auth/login', { body: { email: OWNER.email } })).status, 400);
    assert.equal((await t.request('post', '/api/auth/login', { body: { email: 'not-an-email', password: 'x' } })).status, 400);
    assert.equal((await t.request('post', '/api/auth/login', { body: { email: OWNER.email, password: 'x', admin: true } })).status, 400);
    assert.equal((await t.request('post', '/api/auth/login', { body: { email: OWNER.email, password: 42 } })).status, 400);
    assert.equal((await t.request('post', '/api/auth/login', { rawBody: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 415);
    assert.equal((await t.request('post', '/api/auth/refresh', { body: { refreshToken: 'short' } })).status, 400);
  });

  it('rotates the refresh token on every use', async () => {
    const user = await t.createUser('agent');
    const first = await t.request<Tokens>('post', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    assert.equal(first.status, 200, first.text);
    assert.notEqual(first.body.refreshToken, user.refreshToken);
    const second = await t.request<Tokens>('post', '/api/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
    assert.equal(second.status, 200);
    assert.equal((await t.call('get', '/api/permissions/me', second.body.accessToken)).status, 200);
  });

  it('ends the whole session when an old refresh token is used again', async () => {
    const user = await t.createUser('agent', 'reuse');
    const rotated = await t.request<Tokens>('post', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    assert.equal(rotated.status, 200);
    const replay = await t.request<ErrorBody>('post', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, 'REFRESH_TOKEN_REUSED');
    // The legitimate newest token and every access token of the family are dead too.
    const newest = await t.request<ErrorBody>('post', '/api/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
    assert.equal(newest.status, 401);
    assert.equal((await t.call('get', '/api/permissions/me', rotated.body.accessToken)).status, 401);
    assert.equal((await t.call('get', '/api/permissions/me', user.accessToken)).status, 401);
    // Other sessions of the same user are untouched.
    const again = await t.login(user.email, user.password);
    assert.equal((await t.call('get', '/api/permissions/me', again.body.accessToken)).status, 200);
  });

  it('lets exactly one of two racing refreshes win', async () => {
    const user = await t.createUser('viewer', 'race');
    const results = await Promise.all([1, 2].map(() => t.request('post', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
  });

  it('signs out: the refresh token and the access token stop working', async () => {
    const user = await t.createUser('analyst', 'logout');
    const out = await t.request('post', '/api/auth/logout', { body: { refreshToken: user.refreshToken }, headers: { authorization: `Bearer ${user.accessToken}` } });
    assert.equal(out.status, 204);
    assert.equal((await t.call('get', '/api/permissions/me', user.accessToken)).status, 401);
    assert.equal((await t.request('post', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } })).status, 401);
    assert.equal((await t.request('post', '/api/auth/logout', { body: {} })).status, 204, 'signing out twice is harmless');
  });

  it('records sign-ins and failed sign-ins in the audit log', async () => {
    const admin = await t.createUser('admin', 'auditor');
    await t.login(admin.email, 'a wrong password here');
    const failed = await t.call<{ items: Array<{ actor: { kind: string }; summary: { after: { email: string } } }> }>('get', '/api/audit/logs?action=auth.login-failed', admin.accessToken);
    assert.ok(failed.body.items.some((e) => e.summary.after.email === admin.email && e.actor.kind === 'anonymous'));
    const logins = await t.call<{ items: Array<{ actor: { id: string } }> }>('get', '/api/audit/logs?action=auth.login', admin.accessToken);
    assert.ok(logins.body.items.some((e) => e.actor.id === admin.id));
  });
});

describe('identity: failed sign-in throttling', () => {
  let t: IdentityTestServer;
  let victim: SignedIn;
  before(async () => {
    t = await startIdentityServer({ label: 'throttle', identity: { loginThrottle: { accountLimit: 3, ipLimit: 6, windowSeconds: 60 } } });
    victim = await t.createUser('agent', 'victim');
  });
  after(async () => { await t?.stop(); });

  it('locks an account after its limit, even for the right password, and says when to retry', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await t.login(victim.email, `guess number ${i}`)).status, 401);
    const locked = await t.login(victim.email, victim.password);
    assert.equal(locked.status, 429);
    assert.equal((locked.body as unknown as ErrorBody).error.code, 'LOGIN_THROTTLED');
    assert.equal((locked.body as unknown as ErrorBody).error.details?.scope, 'account');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  });

  it('throttles the client address across accounts', async () => {
    // 3 failures so far from this address; 3 more on other accounts reach the address limit of 6.
    for (let i = 0; i < 3; i++) assert.equal((await t.login(`someone-${i}@example.test`, 'a wrong password')).status, 401);
    const blocked = await t.login(OWNER.email, OWNER.password);
    assert.equal(blocked.status, 429);
    assert.equal((blocked.body as unknown as ErrorBody).error.details?.scope, 'ip');
  });
});
