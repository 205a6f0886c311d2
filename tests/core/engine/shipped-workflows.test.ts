import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testWorkflows, validateWorkflows } from '../../../core/cli/workflow-commands.js';
import { loadConfig } from '../../../core/config/load-config.js';
import { publishedSchemas } from '../../../core/engine/published-schemas.js';
import { projectRoot } from '../../../core/paths.js';
import { uniqueDatabaseUri } from '../../helpers/test-host.js';

describe('the shipped workflows', () => {
  const config = () => loadConfig({ configDir: join(projectRoot, 'config'), env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: uniqueDatabaseUri('shipped') }, overrides: { plugins: ['audit', 'flow', 'http', 'schedule', 'hello', 'whatsapp', 'consent'] } });

  it('are all valid (flowgate validate)', async () => {
    const lines: string[] = [];
    const code = await validateWorkflows(config(), [join(projectRoot, 'workflows')], { log: (l) => lines.push(l) });
    assert.equal(code, 0, lines.join('\n'));
    assert.match(lines.at(-1) ?? '', /^\n?\d+ valid, 0 invalid$/);
  });

  it('pass their fixture tests (flowgate test)', async () => {
    const lines: string[] = [];
    const code = await testWorkflows(config(), [join(projectRoot, 'workflows')], { log: (l) => lines.push(l) });
    assert.equal(code, 0, lines.join('\n'));
    assert.match(lines.join('\n'), /pass\s+.*greeting-follow-up\.test\.json/);
  });

  it('reports a failing fixture with what differed, and exits non-zero', async () => {
    const lines: string[] = [];
    const fixtures = join(projectRoot, 'tests/fixtures/workflows');
    const code = await testWorkflows(config(), [fixtures], { log: (l) => lines.push(l) });
    assert.equal(code, 1);
    assert.match(lines.join('\n'), /FAIL .* expects the wrong greeting\n.*input .* does not contain/);
  });

  it('publishes the workflow schemas the server validates with', () => {
    for (const [file, schema] of Object.entries(publishedSchemas())) {
      assert.deepEqual(JSON.parse(readFileSync(join(projectRoot, file), 'utf8')), schema, `${file} is stale: run npm run schemas`);
    }
  });
});
