/** The SDK as external plugins see it: the package exports, what the guide covers, and that the example uses nothing else. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as core from '../../core/index.js';
import { projectRoot } from '../../core/paths.js';

describe('plugin SDK (flowgate/sdk, flowgate/testing)', () => {
  it('resolves by package name to the very modules the core uses, so injection tokens are shared', async () => {
    const sdk = await import('flowgate/sdk');
    assert.equal(sdk.Realtime, core.Realtime);
    assert.equal(sdk.WorkflowEventsToken, core.WorkflowEventsToken);
    for (const name of ['HttpError', 'StepError', 'StepDeferral', 'defineModel', 'Schema', 'injectable', 'inject', 'Scheduler', 'EngineClock', 'ProgressBar', 'createAjv']) {
      assert.ok(name in sdk, `flowgate/sdk exports ${name}`);
    }
    const testing = await import('flowgate/testing');
    for (const name of ['startTestServer', 'nextEvent', 'eventually', 'uniqueDatabaseUri', 'GraphApiDouble']) {
      assert.equal(typeof (testing as Record<string, unknown>)[name], 'function', `flowgate/testing exports ${name}`);
    }
  });

  it('docs/plugins.md shows every registrar method of core/plugin-api.ts', () => {
    const api = readFileSync(join(projectRoot, 'core', 'plugin-api.ts'), 'utf8');
    const registrar = /export interface PluginRegistrar<C = unknown> \{([\s\S]*?)\n\}/.exec(api)?.[1] ?? '';
    const methods = [...registrar.matchAll(/^ {2}(?:readonly )?([a-z][A-Za-z]*)(?:<[^>]*>)?[(:]/gm)].map((m) => m[1] as string).filter((m) => m !== 'config');
    assert.ok(methods.length >= 12, `found ${methods.join(', ')}`);
    const guide = readFileSync(join(projectRoot, 'docs', 'plugins.md'), 'utf8');
    const missing = methods.filter((method) => !guide.includes(`r.${method}(`));
    assert.deepEqual(missing, [], 'docs/plugins.md shows each registrar method in use');
  });

  it('the example external plugin imports only the SDK, the platform and its own files', () => {
    const folder = join(projectRoot, 'examples', 'quiet-hours');
    const files = readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(folder, f));
    const outside: string[] = [];
    for (const file of files) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from '([^']+)'/gm)) {
        const spec = specifier as string;
        const own = spec.startsWith('.') && !relative(folder, resolve(dirname(file), spec)).startsWith('..');
        if (!own && !/^(flowgate\/(sdk|testing)|node:.+|json-schema-to-ts)$/.test(spec)) outside.push(`${relative(projectRoot, file)}: ${spec}`);
      }
    }
    assert.deepEqual(outside, []);
  });
});
