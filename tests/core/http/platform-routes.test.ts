import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type RunningService } from '../../../scripts/local-services.js';
import { eventually, startTestServer, type TestServer } from '../../helpers/test-host.js';

interface Readiness { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }

describe('core/http/platform-routes', () => {
  describe('/api/ready follows Redis; /api/health does not', () => {
    let redis: RunningService;
    let port: number;
    let dataDir: string;
    let t: TestServer;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'flowgate-redis-'));
      port = await freePort();
      redis = await startRedis(dataDir, port);
      t = await startTestServer({ label: 'ready', redisUrl: redis.url, plugins: [] });
    });
    after(async () => {
      await t?.stop();
      await redis?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('is ready with every dependency reported', async () => {
      const ready = await t.request<Readiness>('get', '/api/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { ready: true, checks: { mongodb: { ok: true }, redis: { ok: true }, scheduler: { ok: true } } });
    });

    it('answers 503 naming redis while Redis is down, and 200 again once it is back on the same port', async () => {
      await redis.stop();
      const down = await eventually(async () => {
        const response = await t.request<Readiness>('get', '/api/ready');
        return response.status === 503 ? response : null;
      }, 5_000);
      assert.equal(down.body.ready, false);
      assert.equal(down.body.checks.redis?.ok, false);
      assert.match(down.body.checks.redis?.detail ?? '', /connection/);
      assert.equal(down.body.checks.mongodb?.ok, true);
      const health = await t.request<{ status: string }>('get', '/api/health');
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'ok');

      redis = await startRedis(dataDir, port);
      const back = await eventually(async () => {
        const response = await t.request<Readiness>('get', '/api/ready');
        return response.status === 200 ? response : null;
      }, 10_000);
      assert.equal(back.body.ready, true);
      assert.equal(back.body.checks.redis?.ok, true);
    });
  });
});
