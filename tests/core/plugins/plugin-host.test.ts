import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../../core/logging/logger.js';
import { CoreError } from '../../../core/index.js';
import { startTestServer, type TestServerOptions } from '../../helpers/test-host.js';
import { journal } from '../../fixtures/plugins/boot/recording.js';
import { received } from '../../fixtures/plugins/boot/configured.js';

/** Config entry for a fixture plugin under tests/fixtures/plugins/boot. */
const boot = (name: string) => `./dist/tests/fixtures/plugins/boot/${name}.js`;

interface PluginView { id: string; state: string; error?: string; dependsOn: string[] }

/** Boots with the given plugins and returns the CoreError that stopped boot. */
async function bootError(options: TestServerOptions): Promise<CoreError> {
  try {
    const t = await startTestServer({ auth: false, label: 'boot', ...options });
    await t.stop();
  } catch (error) {
    assert.ok(error instanceof CoreError, `expected a CoreError, got ${String(error)}`);
    return error;
  }
  assert.fail('boot succeeded');
}

describe('core/plugins/plugin-host', () => {
  beforeEach(() => { journal.length = 0; });

  describe('ordering', () => {
    it('registers and starts plugins in dependency order and stops them in reverse', async () => {
      const t = await startTestServer({ label: 'order', plugins: [boot('gamma'), boot('beta'), boot('alpha')] });
      try {
        assert.deepEqual(journal, ['register:alpha', 'register:beta', 'register:gamma', 'start:alpha', 'start:beta', 'start:gamma']);
        const listed = await t.request<{ items: PluginView[] }>('get', '/api/plugins', { as: 'viewer' });
        assert.equal(listed.status, 200);
        const fixtures = listed.body.items.filter((p) => ['alpha', 'beta', 'gamma'].includes(p.id));
        assert.deepEqual(fixtures.map((p) => [p.id, p.state]), [['alpha', 'started'], ['beta', 'started'], ['gamma', 'started']]);
        assert.deepEqual(fixtures[2]?.dependsOn, ['beta', 'alpha']);
      } finally {
        journal.length = 0;
        await t.stop();
      }
      assert.deepEqual(journal, ['stop:gamma', 'stop:beta', 'stop:alpha']);
    });

    it('gives up on a plugin whose stop hangs (PLUGIN_STOP_TIMEOUT, logged) and stops the rest', async () => {
      const stream = new PassThrough();
      let logged = '';
      stream.on('data', (chunk: Buffer) => { logged += chunk.toString(); });
      const t = await startTestServer({
        label: 'stophang', auth: false, plugins: [boot('alpha'), boot('beta'), boot('gamma')], pluginSettings: { beta: { fail: 'stop-hang' } },
        config: { lifecycle: { startTimeoutMs: 5_000, stopTimeoutMs: 300 } }, logger: createLogger({ level: 'error', stream }),
      });
      journal.length = 0;
      const started = Date.now();
      await t.stop();
      assert.ok(Date.now() - started < 5_000);
      assert.deepEqual(journal, ['stop:gamma', 'stop:beta', 'stop:alpha']);
      assert.match(logged, /Plugin beta did not stop within 300 ms/);
    });

    it('keeps stopping the others when one plugin fails to stop', async () => {
      const t = await startTestServer({ label: 'stopfail', auth: false, plugins: [boot('alpha'), boot('beta'), boot('gamma')], pluginSettings: { beta: { fail: 'stop' } } });
      journal.length = 0;
      await t.stop();
      assert.deepEqual(journal, ['stop:gamma', 'stop:beta', 'stop:alpha']);
    });
  });

  describe('boot errors name the plugin and carry a stable code', () => {
    it('PLUGIN_NOT_FOUND for a name that is neither built in nor installed, and for a missing path', async () => {
      const byName = await bootError({ plugins: ['no-such-plugin'] });
      assert.equal(byName.code, 'PLUGIN_NOT_FOUND');
      assert.match(byName.message, /no-such-plugin/);
      const byPath = await bootError({ plugins: [boot('nowhere')] });
      assert.equal(byPath.code, 'PLUGIN_NOT_FOUND');
      assert.match(byPath.message, /nowhere/);
    });

    it('PLUGIN_LOAD_FAILED when a plugin file exists but cannot be imported', async () => {
      const error = await bootError({ plugins: [boot('broken-import')] });
      assert.equal(error.code, 'PLUGIN_LOAD_FAILED');
      assert.match(error.message, /broken-import/);
      assert.match(error.message, /missing-helper/);
    });

    it('PLUGIN_INVALID when the module does not export a plugin', async () => {
      const error = await bootError({ plugins: [boot('not-a-plugin')] });
      assert.equal(error.code, 'PLUGIN_INVALID');
      assert.match(error.message, /not-a-plugin.*manifest, register/);
    });

    it('PLUGIN_MISSING_DEPENDENCY names the plugin and what it needs', async () => {
      const error = await bootError({ plugins: [boot('alpha'), boot('orphan')] });
      assert.equal(error.code, 'PLUGIN_MISSING_DEPENDENCY');
      assert.match(error.message, /Plugin orphan depends on absent/);
      assert.deepEqual(journal, [], 'no plugin code runs before the dependency graph is checked');
    });

    it('PLUGIN_DEPENDENCY_CYCLE shows the whole cycle', async () => {
      const error = await bootError({ plugins: [boot('cycle-one'), boot('cycle-two'), boot('cycle-three')] });
      assert.equal(error.code, 'PLUGIN_DEPENDENCY_CYCLE');
      assert.match(error.message, /cycle-one -> cycle-two -> cycle-three -> cycle-one/);
      assert.deepEqual((error.details as { cycle: string[] }).cycle, ['cycle-one', 'cycle-two', 'cycle-three', 'cycle-one']);
    });

    it('PLUGIN_DUPLICATE when two entries resolve to the same plugin id', async () => {
      const error = await bootError({ plugins: [boot('alpha'), './dist/tests/fixtures/plugins/boot/alpha'] });
      assert.equal(error.code, 'PLUGIN_DUPLICATE');
      assert.match(error.message, /Plugin id alpha is used by both .*alpha\.js and .*boot\/alpha$/);
    });

    for (const kind of ['trigger', 'action', 'policy']) {
      it(`PLUGIN_DUPLICATE_TYPE when a ${kind} type is contributed twice`, async () => {
        const error = await bootError({ plugins: [boot('duplicate-type')], pluginSettings: { twice: { kind } } });
        assert.equal(error.code, 'PLUGIN_DUPLICATE_TYPE');
        assert.match(error.message, new RegExp(`^${kind} twice\\.same@1 is contributed twice`));
      });
    }

    it('PLUGIN_MANIFEST_INVALID before any plugin code runs', async () => {
      const error = await bootError({ plugins: [boot('alpha'), boot('bad-manifest')] });
      assert.equal(error.code, 'PLUGIN_MANIFEST_INVALID');
      assert.match(error.message, /bad-manifest.*"Bad_Id"/);
      assert.deepEqual(journal, []);
    });

    it('PLUGIN_CORE_MISMATCH when the plugin does not support this core', async () => {
      const error = await bootError({ plugins: [boot('future-core')] });
      assert.equal(error.code, 'PLUGIN_CORE_MISMATCH');
      assert.match(error.message, /Plugin future supports core \^99\.0\.0, this core is 0\.1\.0/);
    });

    it('PLUGIN_CONFIG_INVALID names each bad key and what was expected', async () => {
      const error = await bootError({ plugins: [boot('configured')], pluginSettings: { configured: { retries: 'three', upstream: {} } } });
      assert.equal(error.code, 'PLUGIN_CONFIG_INVALID');
      assert.match(error.message, /^Plugin configured has invalid settings: /);
      assert.match(error.message, /pluginSettings\.configured\.retries must be integer/);
      assert.match(error.message, /pluginSettings\.configured\.upstream\.url is required/);
    });

    const clashes: Array<[string, string, RegExp]> = [
      ['route', 'PLUGIN_DUPLICATE_ROUTE', /Route GET \/api\/health is served by both core and clash/],
      ['permission', 'PERMISSION_UNKNOWN', /Route GET \/api\/clash of clash needs nobody:grants, which no plugin grants/],
      ['grant', 'PERMISSION_CONFLICT', /Permission plugins:read is granted to viewer by core and to admin by clash/],
      ['topic', 'PLUGIN_DUPLICATE_TOPIC', /Topic greetings is contributed twice \(by hello and clash\)/],
      ['authenticator', 'PLUGIN_DUPLICATE_AUTHENTICATOR', /Plugins static-auth and clash both provide the authenticator/],
    ];
    for (const [kind, code, message] of clashes) {
      it(`${code} when a plugin's ${kind} clashes with what is already there`, async () => {
        const error = await bootError({ auth: true, plugins: ['hello', boot('clash')], pluginSettings: { clash: { kind } } });
        assert.equal(error.code, code);
        assert.match(error.message, message);
      });
    }

    it('PLUGIN_REGISTER_FAILED when register() throws', async () => {
      const error = await bootError({ plugins: [boot('alpha'), boot('beta')], pluginSettings: { beta: { fail: 'register' } } });
      assert.equal(error.code, 'PLUGIN_REGISTER_FAILED');
      assert.match(error.message, /Plugin beta failed to register: beta refuses to register/);
    });

    it('PLUGIN_START_FAILED when start() throws; plugins already started are stopped again', async () => {
      const error = await bootError({ plugins: [boot('alpha'), boot('beta'), boot('gamma')], pluginSettings: { beta: { fail: 'start' } } });
      assert.equal(error.code, 'PLUGIN_START_FAILED');
      assert.match(error.message, /Plugin beta failed to start: beta cannot reach its upstream/);
      assert.deepEqual(journal.filter((line) => !line.startsWith('register:')), ['start:alpha', 'start:beta', 'stop:alpha']);
    });

    it('PLUGIN_START_TIMEOUT names the plugin whose start hangs', async () => {
      const started = Date.now();
      const error = await bootError({
        plugins: [boot('alpha'), boot('beta'), boot('gamma')], pluginSettings: { beta: { fail: 'hang' } },
        config: { lifecycle: { startTimeoutMs: 300, stopTimeoutMs: 300 } },
      });
      assert.equal(error.code, 'PLUGIN_START_TIMEOUT');
      assert.match(error.message, /Plugin beta did not finish starting within 300 ms/);
      assert.ok(Date.now() - started < 5_000);
      assert.ok(!journal.includes('start:gamma'));
    });
  });

  describe('optional plugins', () => {
    it('boot continues past an optional plugin whose start fails, and GET /api/plugins shows it failed', async () => {
      const t = await startTestServer({
        label: 'optional', plugins: [boot('alpha'), { from: boot('beta'), optional: true }, { from: 'no-such-plugin', optional: true }],
        pluginSettings: { beta: { fail: 'start' } },
      });
      try {
        const listed = await t.request<{ items: PluginView[] }>('get', '/api/plugins', { as: 'viewer' });
        const byId = new Map(listed.body.items.map((p) => [p.id, p]));
        assert.equal(byId.get('alpha')?.state, 'started');
        assert.equal(byId.get('beta')?.state, 'failed');
        assert.match(byId.get('beta')?.error ?? '', /beta cannot reach its upstream/);
        assert.equal((await t.request('get', '/api/health')).status, 200);
      } finally {
        await t.stop();
      }
    });
  });

  describe('settings', () => {
    const saved = { ...process.env };
    afterEach(() => {
      delete process.env.CONFIGURED_UPSTREAM_TOKEN;
      delete process.env.CONFIGURED_UPSTREAM_URL;
      Object.assign(process.env, saved);
    });

    it('fills defaults, overlays the variables named in manifest.environment, and freezes the result', async () => {
      process.env.CONFIGURED_UPSTREAM_TOKEN = 'tok-from-the-environment';
      process.env.CONFIGURED_UPSTREAM_URL = 'https://env.example/hook';
      const t = await startTestServer({ label: 'settings', auth: false, plugins: [boot('configured')], pluginSettings: { configured: { upstream: { url: 'https://file.example/hook' } } } });
      await t.stop();
      assert.deepEqual(received.settings, { greeting: 'hi', retries: 3, upstream: { url: 'https://env.example/hook', token: 'tok-from-the-environment' } });
      assert.ok(Object.isFrozen(received.settings) && Object.isFrozen(received.settings?.upstream));
    });

    it('checks values from the environment like any other setting, without echoing them', async () => {
      process.env.CONFIGURED_UPSTREAM_TOKEN = 'short';
      const error = await bootError({ plugins: [boot('configured')], pluginSettings: { configured: { upstream: { url: 'https://file.example/hook' } } } });
      assert.equal(error.code, 'PLUGIN_CONFIG_INVALID');
      assert.match(error.message, /pluginSettings\.configured\.upstream\.token must NOT have fewer than 8 characters/);
      assert.doesNotMatch(error.message, /short/);
    });
  });
});
