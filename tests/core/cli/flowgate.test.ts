import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { distRoot, projectRoot } from '../../../core/paths.js';

/** Runs the real `flowgate` command and collects its exit code and stderr. */
function flowgate(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(distRoot, 'core', 'cli', 'flowgate.js'), ...args], {
      cwd: projectRoot, env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
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
});
