import assert from 'node:assert/strict';
import { eventually, startTestServer, STATIC_AUTH_PLUGIN, uniqueDatabaseUri, type TestServer } from '../../helpers/test-host.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { effectCount, ENGINE_PLUGINS, manualWorkflow, type ExecutionView } from './helpers.js';

const auth = { authorization: 'Bearer role:manager', 'content-type': 'application/json' };

describe('core/engine: a process killed mid-step', function () {
  this.timeout(90_000);
  let victim: ServerProcess | undefined;
  let survivor: TestServer | undefined;
  after(async () => {
    await victim?.kill();
    await survivor?.stop();
  });

  it('is resumed by another process after its lease expires, with every effect exactly once', async () => {
    const mongodbUri = uniqueDatabaseUri('crash');
    victim = await startServerProcess({ mongodbUri, plugins: [STATIC_AUTH_PLUGIN, ...ENGINE_PLUGINS] });
    const workflow = manualWorkflow('crash-test', [
      { id: 'before', action: 'probe.record@1', input: { value: 'before' } },
      { id: 'inflight', action: 'probe.slow@1', input: { ms: 8_000, value: 'inflight' } },
      { id: 'after', action: 'probe.record@1', input: { value: 'after' } },
    ]);
    const created = await fetch(`${victim.url}/api/workflows`, { method: 'POST', headers: auth, body: JSON.stringify(workflow) });
    assert.equal(created.status, 201);
    const run = await fetch(`${victim.url}/api/workflows/crash-test/run`, { method: 'POST', headers: auth, body: '{}' });
    const { eventId } = await run.json() as { eventId: string };

    survivor = await startTestServer({ mongodbUri, plugins: ENGINE_PLUGINS, label: 'crash' });
    const t = survivor;
    const execution = await eventually(async () => {
      const list = await t.request<{ items: Array<{ id: string }> }>('get', `/api/executions?eventId=${eventId}`, { as: 'viewer' });
      const id = list.body.items[0]?.id;
      if (!id) return null;
      const view = (await t.request<ExecutionView>('get', `/api/executions/${id}`, { as: 'viewer' })).body;
      // The in-flight step has done its effect but not finished: the worst moment to die.
      return view.currentStep === 'inflight' && (await effectCount(t, `${id}:inflight`)) === 1 ? view : null;
    }, 30_000, 20);
    await victim.kill('SIGKILL');

    const finished = await eventually(async () => {
      const view = (await t.request<ExecutionView>('get', `/api/executions/${execution.id}`, { as: 'viewer' })).body;
      return view.status === 'succeeded' ? view : null;
    }, 40_000);
    assert.deepEqual(finished.steps.map((s) => [s.stepId, s.status]), [['before', 'succeeded'], ['inflight', 'succeeded'], ['after', 'succeeded']]);
    assert.equal(await effectCount(t, `${execution.id}:before`), 1);
    assert.equal(await effectCount(t, `${execution.id}:inflight`), 1);
    assert.equal(await effectCount(t, `${execution.id}:after`), 1);
  });
});
