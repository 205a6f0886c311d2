import assert from 'node:assert/strict';
import { decodeJwt, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { JWT_SECRET, startIdentityServer, type IdentityTestServer, type SignedIn } from './identity-host.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const key = new TextEncoder().encode(JWT_SECRET);

describe('identity: access tokens and their attacks', () => {
  let t: IdentityTestServer;
  let viewer: SignedIn;
  let claims: { sub: string; sid: string };

  const forge = (overrides: { aud?: string; iss?: string; exp?: number } = {}) => new SignJWT({ sid: claims.sid })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(claims.sub).setIssuer(overrides.iss ?? 'flowgate').setAudience(overrides.aud ?? 'flowgate-api')
    .setIssuedAt().setExpirationTime(overrides.exp ?? '5m').sign(key);
  const me = (token: string) => t.call<{ error: { code: string; message: string } }>('get', '/api/permissions/me', token);

  before(async () => {
    t = await startIdentityServer({ label: 'tokens' });
    viewer = await t.createUser('viewer');
    const decoded = decodeJwt(viewer.accessToken);
    claims = { sub: String(decoded.sub), sid: String(decoded.sid) };
  });
  after(async () => { await t?.stop(); });

  it('accepts a token it signed itself (the forging below is otherwise correct)', async () => {
    assert.equal((await me(viewer.accessToken)).status, 200);
    assert.equal((await me(await forge())).status, 200);
  });

  it('refuses alg "none"', async () => {
    const payload = decodeJwt(viewer.accessToken);
    const response = await me(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`);
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'UNAUTHENTICATED');
  });

  it('refuses RS256 tokens and HS256 tokens keyed with an RSA public key (algorithm confusion)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const rs = await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: 'RS256' }).setSubject(claims.sub).setIssuer('flowgate').setAudience('flowgate-api').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    assert.equal((await me(rs)).status, 401);
    const pem = new TextEncoder().encode(await exportSPKI(publicKey));
    const confused = await new SignJWT({ sid: claims.sid }).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub).setIssuer('flowgate').setAudience('flowgate-api').setIssuedAt().setExpirationTime('5m').sign(pem);
    assert.equal((await me(confused)).status, 401);
  });

  it('refuses an expired token, saying so', async () => {
    const response = await me(await forge({ exp: Math.floor(Date.now() / 1000) - 10 }));
    assert.equal(response.status, 401);
    assert.match(response.body.error.message, /expired/);
  });

  it('refuses a wrong audience or issuer', async () => {
    assert.equal((await me(await forge({ aud: 'another-service' }))).status, 401);
    assert.equal((await me(await forge({ iss: 'someone-else' }))).status, 401);
  });

  it('refuses a tampered payload and a tampered signature', async () => {
    const [header, payload, signature] = viewer.accessToken.split('.') as [string, string, string];
    const escalated = b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'owner', exp: Math.floor(Date.now() / 1000) + 86_400 });
    assert.equal((await me(`${header}.${escalated}.${signature}`)).status, 401);
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    assert.equal((await me(`${header}.${payload}.${flipped}`)).status, 401);
  });

  it('refuses garbage and a non-Bearer Authorization header', async () => {
    assert.equal((await me('not-a-jwt')).status, 401);
    const basic = await t.request('get', '/api/permissions/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(basic.status, 401);
  });
});
