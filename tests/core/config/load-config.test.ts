import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../core/config/load-config.js';
import { CoreError } from '../../../core/index.js';
import { projectRoot } from '../../../core/paths.js';

const configDir = join(projectRoot, 'config');
const load = (env: NodeJS.ProcessEnv) => loadConfig({ configDir, env });

/** The CONFIG_INVALID error a given environment produces. */
function configError(env: NodeJS.ProcessEnv, dir = configDir): CoreError {
  try {
    loadConfig({ configDir: dir, env });
  } catch (error) {
    assert.ok(error instanceof CoreError);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error;
  }
  assert.fail('the configuration was accepted');
}

describe('core/config/load-config', () => {
  it('reads config/default.json, then config/<NODE_ENV>.json', () => {
    const development = load({});
    assert.equal(development.http.port, 3000);
    assert.equal(development.log.level, 'info');
    const test = load({ NODE_ENV: 'test' });
    assert.equal(test.http.port, 0);
    assert.equal(test.log.level, 'silent');
    assert.equal(test.http.bodyLimit, '100kb', 'keys the environment file leaves out keep their defaults');
  });

  it('maps MONGODB_URI, REDIS_URL, PORT, HOST, LOG_LEVEL and WORKFLOWS_DIR onto their keys', () => {
    const config = load({
      MONGODB_URI: 'mongodb://db.internal:27017/prod', REDIS_URL: 'rediss://cache.internal:6380', PORT: '8080',
      HOST: '0.0.0.0', LOG_LEVEL: 'debug', WORKFLOWS_DIR: '/srv/workflows',
    });
    assert.equal(config.mongodb.uri, 'mongodb://db.internal:27017/prod');
    assert.equal(config.redis.url, 'rediss://cache.internal:6380');
    assert.equal(config.http.port, 8080);
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.workflows.dir, '/srv/workflows');
  });

  it('sets any key with FLOWGATE__a__b, parsing JSON where the key is not a string', () => {
    const config = load({
      FLOWGATE__http__bodyLimit: '2mb', FLOWGATE__scheduler__enabled: 'false', FLOWGATE__lifecycle__startTimeoutMs: '2500',
      FLOWGATE__plugins: '["hello", {"from": "./my-plugin", "optional": true}]', FLOWGATE__redis__keyPrefix: '123',
      FLOWGATE__pluginSettings__hello: '{"salutation": "Hi"}',
    });
    assert.equal(config.http.bodyLimit, '2mb');
    assert.equal(config.scheduler.enabled, false);
    assert.equal(config.lifecycle.startTimeoutMs, 2500);
    assert.deepEqual(config.plugins, ['hello', { from: './my-plugin', optional: true }]);
    assert.equal(config.redis.keyPrefix, '123', 'a string key keeps a numeric-looking value as a string');
    assert.deepEqual(config.pluginSettings.hello, { salutation: 'Hi' }, 'merged over the settings of config/default.json');
  });

  it('the environment wins over both files', () => {
    assert.equal(load({ NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: '4000' }).log.level, 'warn');
    assert.equal(load({ NODE_ENV: 'test', PORT: '4000' }).http.port, 4000);
  });

  describe('CONFIG_INVALID names the key and what was expected', () => {
    const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
      ['a port that is not a number', { PORT: 'eighty' }, /config\.http\.port must be integer/],
      ['a port out of range', { PORT: '70000' }, /config\.http\.port must be <= 65535/],
      ['an unknown log level', { LOG_LEVEL: 'loud' }, /config\.log\.level must be one of \["error","warn","info","http","debug","silent"\]/],
      ['a database URL of another kind', { MONGODB_URI: 'postgres://db/flowgate' }, /config\.mongodb\.uri must match pattern "\^mongodb\(\\\+srv\)\?:\/\/"/],
      ['a Redis URL of another kind', { REDIS_URL: 'http://cache' }, /config\.redis\.url must match pattern/],
      ['an unknown key', { FLOWGATE__http__colour: 'blue' }, /config\.http\.colour is not an allowed field/],
      ['a body limit without a unit', { FLOWGATE__http__bodyLimit: '100' }, /config\.http\.bodyLimit must match pattern/],
      ['a poll interval below the minimum', { FLOWGATE__scheduler__processEveryMs: '10' }, /config\.scheduler\.processEveryMs must be >= 50/],
      ['a malformed plugin entry', { FLOWGATE__plugins: '[{"path": "./x"}]' }, /config\.plugins\[0\]/],
    ];
    for (const [what, env, expected] of cases) {
      it(what, () => assert.match(configError(env).message, expected));
    }

    it('lists every problem in details, and never echoes a value that may be a secret', () => {
      const error = configError({ MONGODB_URI: 'postgres://admin:hunter2@db/flowgate', PORT: 'x' });
      const paths = (error.details as Array<{ path: string }>).map((issue) => issue.path);
      assert.ok(paths.includes('config.mongodb.uri') && paths.includes('config.http.port'));
      assert.doesNotMatch(JSON.stringify({ message: error.message, details: error.details }), /hunter2/);
    });

    it('a config file that is not JSON names the file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'flowgate-config-'));
      try {
        writeFileSync(join(dir, 'default.json'), '{ "http": { "port": 3000, } }');
        assert.match(configError({}, dir).message, /default\.json: .*JSON/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
