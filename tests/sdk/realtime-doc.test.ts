import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../core/paths.js';
import { renderRealtimeDoc } from '../../scripts/realtime-doc.js';

describe('docs/realtime.md', () => {
  it('lists every topic and event payload the server registers, and the example client as it is', async () => {
    const current = readFileSync(join(projectRoot, 'docs', 'realtime.md'), 'utf8');
    assert.equal(await renderRealtimeDoc(current), current, 'run `node dist/scripts/realtime-doc.js --write` and commit docs/realtime.md');
  });

  it('documents the core engine topics and those of the default plugins', async () => {
    const current = readFileSync(join(projectRoot, 'docs', 'realtime.md'), 'utf8');
    for (const topic of ['executions', 'workflows', 'messages', 'delivery', 'consent', 'audit', 'backups']) {
      assert.match(current, new RegExp(`^### Topic \`${topic}\`$`, 'm'), topic);
    }
    assert.match(current, /^#### `execution\.finished`\n\n\| Field[^\n]*\n[^\n]*\n\| `executionId` \| string \| yes \|/m);
  });
});
