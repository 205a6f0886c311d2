import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, nextEvent, startTestServer, type TestServer } from '../../helpers/test-host.js';
import { ENGINE_PLUGINS } from './helpers.js';

interface Summary { id: string; version: number; enabled: boolean; source: string; lastError?: { issues: Array<{ code: string; path: string }> } }

describe('core/engine: workflow files', () => {
  let t: TestServer;
  let dir: string;
  const file = () => join(dir, 'greeter.json');
  const definition = (message: string) => ({ id: 'file-greeter', trigger: { type: 'flow.manual@1' }, steps: [{ id: 'say', action: 'flow.log@1', input: { message } }] });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-workflows-'));
    writeFileSync(file(), JSON.stringify(definition('first')));
    writeFileSync(join(dir, 'greeter.test.json'), JSON.stringify({ not: 'a workflow' }));
    t = await startTestServer({ label: 'reload', plugins: ENGINE_PLUGINS, config: { workflows: { dir, watch: true } } });
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const summary = async () => (await t.request<{ items: Summary[] }>('get', '/api/workflows', { as: 'viewer' })).body.items.find((w) => w.id === 'file-greeter');

  it('loads workflow files at boot, ignoring fixture files', async () => {
    const loaded = await summary();
    assert.equal(loaded?.version, 1);
    assert.equal(loaded?.source, 'file');
  });

  it('stores a changed file as a new version without a restart', async () => {
    writeFileSync(file(), JSON.stringify(definition('second')));
    const reloaded = await eventually(async () => ((await summary())?.version === 2 ? summary() : null));
    assert.equal(reloaded?.enabled, true);
  });

  it('keeps the previous version active when a file turns invalid, and says why in the API and on the socket', async () => {
    const socket = await t.socket({ as: 'viewer' });
    await socket.emitWithAck('subscribe', ['workflows']);
    const announced = nextEvent<{ file: string; issues: Array<{ code: string }> }>(socket, 'workflow.invalid', 5_000);
    writeFileSync(file(), JSON.stringify({ ...definition('third'), steps: [{ id: 'say', action: 'flow.shout@1' }] }));
    assert.equal((await announced).issues[0]?.code, 'UNKNOWN_ACTION');
    const current = await eventually(async () => ((await summary())?.lastError ? summary() : null));
    assert.equal(current?.version, 2);
    assert.equal(current?.lastError?.issues[0]?.path, 'steps[0].action');
    const run = await t.request('post', '/api/workflows/file-greeter/run', { as: 'manager', body: {} });
    assert.equal(run.status, 202);
    writeFileSync(file(), '{ this is not json');
    await eventually(async () => ((await summary())?.lastError?.issues[0]?.code === 'WORKFLOW_JSON' ? true : null));
  });
});
