import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { distRoot, projectRoot } from '../../../core/paths.js';

/** Runs the real `flowgate` command and collects its exit code and output. */
function flowgate(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(distRoot, 'core', 'cli', 'flowgate.js'), ...args], {
      cwd: projectRoot, env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('core/cli/flowgate', () => {
  it('refuses to start on a bad value: exit code 2 and a message naming the key', async () => {
    const { code, stderr } = await flowgate(['start'], { PORT: 'eighty' });
    assert.equal(code, 2);
    assert.match(stderr, /^flowgate: CONFIG_INVALID: Invalid configuration: config\.http\.port must be integer/m);
  });

  it('stops boot on a plugin error: exit code 1 and the code with the plugin name', async () => {
    const { code, stderr } = await flowgate(['start'], { FLOWGATE__plugins: '["no-such-plugin"]' });
    assert.equal(code, 1);
    assert.match(stderr, /^flowgate: PLUGIN_NOT_FOUND: Plugin no-such-plugin was not found/m);
  });

  it('answers an unknown command with usage and exit code 2', async () => {
    const { code, stderr } = await flowgate(['launch'], {});
    assert.equal(code, 2);
    assert.match(stderr, /Unknown command "launch"[\s\S]*Usage: flowgate/);
  });

  it('answers a plugin command\'s alias with --help and exit code 0, connecting to nothing', async () => {
    const { code, stdout } = await flowgate(['restore', '--help'], { MONGODB_URI: 'mongodb://127.0.0.1:1/nowhere', REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: flowgate backup:restore <backup id>/);
  });
});

/** Starts `flowgate start` with a plugin whose stop never ends; resolves once it listens. */
function startStuckServer(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [join(distRoot, 'core', 'cli', 'flowgate.js'), 'start'], {
    cwd: projectRoot, stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env, NODE_ENV: 'test', PORT: '0',
      FLOWGATE__plugins: '["./dist/tests/fixtures/plugins/boot/alpha.js"]',
      FLOWGATE__pluginSettings: '{"alpha":{"fail":"stop-hang"}}',
      FLOWGATE__lifecycle__stopTimeoutMs: '600000',
      ...env,
    },
  });
  let stderr = '';
  const exited = new Promise<{ code: number | null; stderr: string; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, stderr, at: Date.now() })));
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); if (stderr.includes('Flowgate listening on')) resolve(); });
    void exited.then(() => reject(new Error(`exited before listening: ${stderr}`)));
  });
  return { child, listening, exited };
}

describe('core/cli/flowgate start: a shutdown that does not finish', function () {
  this.timeout(60_000);

  it('exits with 1 once lifecycle.shutdownTimeoutMs has passed, saying why', async () => {
    const server = startStuckServer({ FLOWGATE__lifecycle__shutdownTimeoutMs: '1500' });
    await server.listening;
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const { code, stderr, at } = await server.exited;
    assert.equal(code, 1);
    assert.match(stderr, /shutdown cut short: it did not stop within lifecycle\.shutdownTimeoutMs \(1500 ms\)/);
    assert.ok(at - signalledAt >= 1_400 && at - signalledAt < 15_000, `exited ${at - signalledAt} ms after SIGTERM`);
  });

  it('exits with 1 at once on a second signal', async () => {
    const server = startStuckServer({ FLOWGATE__lifecycle__shutdownTimeoutMs: '600000' });
    await server.listening;
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const againAt = Date.now();
    server.child.kill('SIGINT');
    const { code, stderr, at } = await server.exited;
    assert.equal(code, 1);
    assert.match(stderr, /shutdown cut short: SIGINT arrived while it was stopping/);
    assert.ok(at - againAt < 10_000, `exited ${at - againAt} ms after the second signal`);
  });

  it('exits with 0 when the stop finishes', async () => {
    const server = startStuckServer({ FLOWGATE__pluginSettings: '{"alpha":{}}' });
    await server.listening;
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    assert.equal(code, 0);
  });
});
