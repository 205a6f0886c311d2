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
