import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually, startTestServer, type HttpResult, type TestServer } from '../helpers/test-host.js';
import { startIdentityServer, type IdentityTestServer } from '../plugins/identity/identity-host.js';
import { ownRedis, type OwnedService } from './services.js';

const WINDOW_SECONDS = 10;

/** Windows are aligned to the clock: start a burst early in one so it cannot straddle two. */
async function startOfWindow(): Promise<void> {
  const left = WINDOW_SECONDS * 1000 - (Date.now() % (WINDOW_SECONDS * 1000));
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
}

interface LimitedBody { error: { code: string; details: { scope: string; limit: number; retryAfterSeconds: number } } }

function assertLimited(response: HttpResult, scope: string, limit: number): void {
  assert.equal(response.status, 429, response.text);
  const retryAfter = Number(response.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= WINDOW_SECONDS, `Retry-After ${retryAfter}`);
  const body = response.body as LimitedBody;
  assert.equal(body.error.code, 'RATE_LIMITED');
  assert.deepEqual({ scope: body.error.details.scope, limit: body.error.details.limit }, { scope, limit });
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
}

describe('reliability: request limits per address and per credential', function () {
  this.timeout(60_000);

  describe('per client address, shared by every process', () => {
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      const config = { http: { trustProxy: true, rateLimit: { windowSeconds: WINDOW_SECONDS, perIp: 30, perCredential: 0 } }, redis: { keyPrefix: `rl${randomBytes(3).toString('hex')}:` } };
      a = await startTestServer({ label: 'limits-a', plugins: ['hello'], config });
      b = await startTestServer({ label: 'limits-b', plugins: ['hello'], config, mongodbUri: a.mongodbUri });
    });
    after(async () => { await a?.stop(); await b?.stop(); });

    it('counts one address across two processes and answers 429 with Retry-After past the limit', async () => {
      await startOfWindow();
      const from = { 'x-forwarded-for': '203.0.113.7' };
      for (let i = 0; i < 30; i++) {
        const response = await (i % 2 ? a : b).request('get', '/api/openapi.json', { headers: from });
        assert.equal(response.status, 200, `request ${i + 1}`);
      }
      assertLimited(await a.request('get', '/api/openapi.json', { headers: from }), 'address', 30);
      assertLimited(await b.request('post', '/api/auth/login', { headers: from, body: { email: 'x@example.test', password: 'p' } }), 'address', 30);
      // Another address is not affected, and the probes are never counted.
      assert.equal((await a.request('get', '/api/openapi.json', { headers: { 'x-forwarded-for': '198.51.100.4' } })).status, 200);
      assert.equal((await a.request('get', '/api/health', { headers: from })).status, 200);
      assert.equal((await a.request('get', '/api/ready', { headers: from })).status, 200);
    });
  });

  describe('per API key and per user', () => {
    let t: IdentityTestServer;
    before(async () => {
      t = await startIdentityServer({ label: 'limits-key', config: { http: { rateLimit: { windowSeconds: WINDOW_SECONDS, perIp: 0, perCredential: 12 } } } });
    });
    after(async () => { await t?.stop(); });

    it('limits each API key on its own; another key and a signed-in user keep their own budget', async () => {
      const users = await t.roleUsers();
      const makeKey = async (name: string) => {
        const created = await t.call<{ key: string }>('post', '/api/api-keys', users.owner.accessToken, { name, role: 'viewer' });
        assert.equal(created.status, 201, created.text);
        return created.body.key;
      };
      const first = await makeKey('dashboard one');
      const second = await makeKey('dashboard two');
      await startOfWindow();
      const asKey = (key: string) => t.request('get', '/api/permissions/me', { headers: { 'x-api-key': key } });
      for (let i = 0; i < 12; i++) assert.equal((await asKey(first)).status, 200, `request ${i + 1}`);
      assertLimited(await asKey(first), 'API key', 12);
      assert.equal((await asKey(second)).status, 200);
      assert.equal((await t.call('get', '/api/permissions/me', users.viewer.accessToken)).status, 200);
    });
  });

  describe('while Redis is down', () => {
    let redis: OwnedService;
    let t: TestServer;
    before(async () => {
      redis = await ownRedis();
      t = await startTestServer({ label: 'limits-down', plugins: ['hello'], redisUrl: redis.url, config: { http: { rateLimit: { windowSeconds: WINDOW_SECONDS, perIp: 5, perCredential: 5 } } } });
    });
    after(async () => { await t?.stop(); await redis?.dispose(); });

    it('lets requests through uncounted rather than failing them, and counts again once Redis is back', async () => {
      await redis.kill();
      for (let i = 0; i < 10; i++) {
        const started = Date.now();
        const response = await t.request('get', '/api/hello/greetings', { as: 'viewer' });
        assert.notEqual(response.status, 429);
        assert.ok(response.status < 500 || response.status === 503, `status ${response.status}`);
        assert.ok(Date.now() - started < 2_000, 'not held up waiting for Redis');
      }
      await redis.restart();
      await eventually(async () => (await t.request('get', '/api/ready')).status === 200, 20_000, 100);
      await startOfWindow();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await t.request('get', '/api/openapi.json')).status);
      assert.ok(statuses.includes(429), `limited again: ${statuses.join(',')}`);
    });
  });
});
