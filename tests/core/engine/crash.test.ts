import assert from 'node:assert/strict';
import { RedisConnection } from '../../../core/index.js';
import { eventually, startTestServer, STATIC_AUTH_PLUGIN, uniqueDatabaseUri, type TestServer } from '../../helpers/test-host.js';
import { startServerProcess, stopAfterEach } from '../../helpers/server-process.js';
import { effectCount, ENGINE_PLUGINS, manualWorkflow, type ExecutionView } from './helpers.js';

const auth = { authorization: 'Bearer role:manager', 'content-type': 'application/json' };

describe('core/engine: a process killed mid-step', function () {
  this.timeout(90_000);
  const track = stopAfterEach();

  /**
   * Runs `steps` on a separate server process, waits until the step `inflight` has done its
   * effect but not finished (the worst moment to die), SIGKILLs that process and lets a second
   * one finish the execution. Returns the finished execution and the view just before the kill.
   */
  async function killMidStep(
    name: string, steps: Array<Record<string, unknown>>, beforeKilling: (t: TestServer) => Promise<void> = async () => undefined,
  ): Promise<{ t: TestServer; beforeKill: ExecutionView; finished: ExecutionView }> {
    const mongodbUri = uniqueDatabaseUri(name);
    const victim = track(await startServerProcess({ mongodbUri, plugins: [STATIC_AUTH_PLUGIN, ...ENGINE_PLUGINS] }));
    const created = await fetch(`${victim.url}/api/workflows`, { method: 'POST', headers: auth, body: JSON.stringify(manualWorkflow(name, steps)) });
    assert.equal(created.status, 201);
    const run = await fetch(`${victim.url}/api/workflows/${name}/run`, { method: 'POST', headers: auth, body: '{}' });
    const { eventId } = await run.json() as { eventId: string };

    const t = track(await startTestServer({ mongodbUri, plugins: ENGINE_PLUGINS, label: name }));
    const beforeKill = await eventually(async () => {
      const list = await t.request<{ items: Array<{ id: string }> }>('get', `/api/executions?eventId=${eventId}`, { as: 'viewer' });
      const id = list.body.items[0]?.id;
      if (!id) return null;
      return (await effectCount(t, `${id}:inflight`)) === 1 ? (await t.request<ExecutionView>('get', `/api/executions/${id}`, { as: 'viewer' })).body : null;
    }, 30_000, 20);
    await beforeKilling(t);
    await victim.kill('SIGKILL');

    const finished = await eventually(async () => {
      const view = (await t.request<ExecutionView>('get', `/api/executions/${beforeKill.id}`, { as: 'viewer' })).body;
      return view.status === 'succeeded' ? view : null;
    }, 40_000);
    return { t, beforeKill, finished };
  }

  it('is resumed by another process after its lease expires, with every effect exactly once', async () => {
    const { t, finished } = await killMidStep('crash-test', [
      { id: 'before', action: 'probe.record@1', input: { value: 'before' } },
      { id: 'inflight', action: 'probe.slow@1', input: { ms: 8_000, value: 'inflight' } },
      { id: 'after', action: 'probe.record@1', input: { value: 'after' } },
    ]);
    assert.deepEqual(finished.steps.map((s) => [s.stepId, s.status, s.recalled ?? false]), [['before', 'succeeded', true], ['inflight', 'succeeded', true], ['after', 'succeeded', false]]);
    assert.equal(await effectCount(t, `${finished.id}:before`), 1);
    assert.equal(await effectCount(t, `${finished.id}:inflight`), 1);
    assert.equal(await effectCount(t, `${finished.id}:after`), 1);
  });

  it('never runs a step that is not idempotent twice: its result is saved before the next step starts', async () => {
    const { t, beforeKill, finished } = await killMidStep('crash-tally', [
      { id: 'tally', action: 'probe.tally@1', input: {} },
      { id: 'inflight', action: 'probe.slow@1', input: { ms: 8_000, value: 'inflight' } },
    ]);
    assert.equal(beforeKill.currentStep, 'inflight', 'the execution was saved after the tally, before the slow step');
    assert.deepEqual(finished.steps.map((s) => [s.stepId, s.status]), [['tally', 'succeeded'], ['inflight', 'succeeded']]);
    const redis = t.server.get(RedisConnection);
    assert.equal(await redis.client.get(`${redis.keyPrefix}probe:tally:${finished.id}:tally`), '1', 'the tally ran once');
  });

  it('does not judge again a step that ran before the kill: its policy says no by now, but its effect exists', async () => {
    const switchKey = (t: TestServer) => `${t.server.get(RedisConnection).keyPrefix}probe:switch:crash-recall`;
    const { t, beforeKill, finished } = await killMidStep('crash-recall', [
      { id: 'notify', action: 'probe.record@1', input: { value: 'notified' }, policies: [{ type: 'probe.switch@1', config: { name: 'crash-recall' } }] },
      { id: 'inflight', action: 'probe.slow@1', input: { ms: 8_000, value: 'inflight' } },
      { id: 'later', action: 'probe.record@1', input: { value: 'later' }, policies: [{ type: 'probe.switch@1', config: { name: 'crash-recall' } }] },
    ], async (survivor) => { await survivor.server.get(RedisConnection).client.set(switchKey(survivor), 'closed'); });
    assert.equal(beforeKill.currentStep, 'notify', 'nothing was saved after the idempotent steps: the survivor starts from notify');
    const notify = finished.steps.find((s) => s.stepId === 'notify');
    assert.deepEqual([notify?.status, notify?.recalled, notify?.decisions], ['succeeded', true, []], 'recalled, not denied by the closed switch');
    assert.deepEqual((finished.outputs.notify as { value: string }).value, 'notified');
    assert.deepEqual(finished.steps.find((s) => s.stepId === 'later')?.status, 'denied', 'a step that had not run is judged: the switch denies it');
    assert.equal(await effectCount(t, `${finished.id}:notify`), 1);
    assert.equal(await effectCount(t, `${finished.id}:later`), 0);
    await t.server.get(RedisConnection).client.del(switchKey(t));
  });
});
