/**
 * Effects exactly once where the engine's bookkeeping is subtle: parallel branches retried or
 * deferred, a forEach unit denied, a cancellation racing a claim, a lease taken over from a slow
 * process, and a denial followed by a crash.
 */
import assert from 'node:assert/strict';
import { RedisConnection, WorkflowEngine } from '../../../core/index.js';
import { eventually, startTestServer, STATIC_AUTH_PLUGIN, uniqueDatabaseUri, type TestServer } from '../../helpers/test-host.js';
import { startServerProcess, stopAfterEach } from '../../helpers/server-process.js';
import { createWorkflow, effectCount, ENGINE_PLUGINS, manualWorkflow, runWorkflow, uniqueId, type ExecutionView } from './helpers.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function startRun(t: TestServer, workflowId: string, payload: Record<string, unknown> = {}): Promise<string> {
  const started = await t.request<{ eventId: string }>('post', `/api/workflows/${workflowId}/run`, { as: 'manager', body: { payload } });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return eventually(async () => {
    const list = await t.request<{ items: Array<{ id: string }> }>('get', `/api/executions?eventId=${started.body.eventId}`, { as: 'viewer' });
    return list.body.items[0]?.id ?? null;
  }, 10_000, 10);
}

const view = async (t: TestServer, id: string) => (await t.request<ExecutionView>('get', `/api/executions/${id}`, { as: 'viewer' })).body;

describe('core/engine: effects once (single process)', function () {
  this.timeout(60_000);
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'review', plugins: ENGINE_PLUGINS }); });
  after(async () => { await t.stop(); });

  it('parallel: retrying a failed branch does not run a finished non-idempotent sibling again', async () => {
    const id = uniqueId('par-retry');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'both', parallel: [
        { id: 'count', action: 'probe.tally@1', input: {} },
        { id: 'shaky', action: 'probe.flaky@1', input: { failures: 1, retryable: true }, retry: { max: 2, backoff: { initialMs: 10 } } },
      ] },
    ]));
    const run = await runWorkflow(t, id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    const redis = t.server.get(RedisConnection);
    assert.equal(await redis.client.get(`${redis.keyPrefix}probe:tally:${run.id}:count`), '1', 'the non-idempotent branch ran once');
  });

  it('parallel: a deferred branch does not run its finished non-idempotent sibling again at each wake-up', async () => {
    const id = uniqueId('par-defer');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'both', parallel: [
        { id: 'count', action: 'probe.tally@1', input: {} },
        { id: 'later', action: 'probe.record@1', input: { value: 'later' }, policies: [{ type: 'probe.gate@1', config: { decision: 'defer', deferMs: 300 } }] },
      ] },
    ]));
    const executionId = await startRun(t, id);
    await sleep(3_000);
    await t.server.get(WorkflowEngine).cancel(executionId).catch(() => undefined);
    const redis = t.server.get(RedisConnection);
    assert.equal(await redis.client.get(`${redis.keyPrefix}probe:tally:${executionId}:count`), '1', 'the non-idempotent branch ran again at every wake-up');
  });

  it('an operator retry resumes a failed forEach at the failed item, and runs only the unfinished branch of a failed parallel step', async () => {
    const redis = t.server.get(RedisConnection);
    const attempts = async (key: string) => Number(await redis.client.get(`${redis.keyPrefix}probe:flaky:${key}`));
    const each = uniqueId('retry-each');
    // Item i fails its first i attempts, without retries: item 1 fails the execution once.
    await createWorkflow(t, manualWorkflow(each, [{ id: 'each', forEach: '{{trigger.items}}', action: 'probe.flaky@1', input: { failures: '{{item}}', retryable: false } }]));
    const failedEach = await runWorkflow(t, each, { items: [0, 1] });
    assert.equal(failedEach.status, 'failed');
    assert.equal((await t.request('post', `/api/executions/${failedEach.id}/retry`, { as: 'manager' })).status, 202);
    const retriedEach = await eventually(async () => { const v = await view(t, failedEach.id); return v.status === 'succeeded' ? v : null; });
    assert.deepEqual(retriedEach.outputs.each, [{ attempts: 1 }, { attempts: 2 }]);
    assert.equal(await attempts(`${failedEach.id}:each:0`), 1, 'item 0 was not run again');

    const both = uniqueId('retry-parallel');
    await createWorkflow(t, manualWorkflow(both, [{ id: 'both', parallel: [
      { id: 'count', action: 'probe.tally@1', input: {} },
      { id: 'shaky', action: 'probe.flaky@1', input: { failures: 1, retryable: false } },
    ] }]));
    const failedBoth = await runWorkflow(t, both);
    assert.equal(failedBoth.status, 'failed');
    assert.equal((await t.request('post', `/api/executions/${failedBoth.id}/retry`, { as: 'manager' })).status, 202);
    await eventually(async () => ((await view(t, failedBoth.id)).status === 'succeeded' ? true : null));
    assert.equal(await redis.client.get(`${redis.keyPrefix}probe:tally:${failedBoth.id}:count`), '1', 'the finished branch was not run again');
  });

  it('forEach: a unit denied into next.denied does not leave its partial outputs behind (the next step\'s `if` still applies)', async () => {
    const id = uniqueId('each-deny');
    const redis = t.server.get(RedisConnection);
    const switchKey = `${redis.keyPrefix}probe:switch:${id}`;
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'each', forEach: '{{trigger.items}}', action: 'probe.slow@1', input: { ms: 1_500, value: '{{item}}' },
        policies: [{ type: 'probe.switch@1', config: { name: id } }], next: { denied: 'guarded', default: 'end' } },
      { id: 'guarded', action: 'probe.record@1', input: { value: 'guarded' }, if: { required: ['trigger'], properties: { trigger: { required: ['flag'], properties: { flag: { const: true } } } } } },
    ]));
    const executionId = await startRun(t, id, { items: ['a', 'b'], flag: false });
    await eventually(async () => ((await effectCount(t, `${executionId}:each:0`)) === 1 ? true : null), 10_000, 10);
    await redis.client.set(switchKey, 'closed'); // item 0 was allowed and is running; item 1 will be denied
    const finished = await eventually(async () => { const v = await view(t, executionId); return ['succeeded', 'failed'].includes(v.status) ? v : null; }, 10_000);
    await redis.client.del(switchKey);
    assert.deepEqual(finished.steps.map((s) => [s.stepId, s.index, s.status]), [['each', 0, 'succeeded'], ['each', 1, 'denied'], ['guarded', -1, 'skipped']]);
    assert.equal(await effectCount(t, `${executionId}:guarded`), 0, 'guarded ran although its `if` does not match');
  });

  it('cancel: an execution cancelled while another process is claiming it stays cancelled and runs no further step', async () => {
    const id = uniqueId('cancel-claim');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'first', action: 'probe.flaky@1', input: { failures: 1, retryable: false } },
      { id: 'after', action: 'probe.record@1', input: { value: 'after' } },
    ]));
    const failed = await runWorkflow(t, id);
    assert.equal(failed.status, 'failed');
    const engine = t.server.get(WorkflowEngine);
    const registry = engine.registry;
    const original = registry.compiledVersion.bind(registry);
    // The operator's cancel lands between the claim (status running) and launch (in flight): one of the awaits in resume().
    // Whichever resume() claims it (retry's own or the sweeper's), the hook stays until it fired.
    const fired = new Promise<void>((resolve) => {
      registry.compiledVersion = async (workflowId: string, version: number) => {
        // retry() reads the workflow too, before the claim: only the claim's read is the moment.
        if ((await engine.executionModel.findById(failed.id).lean())?.status !== 'running') return original(workflowId, version);
        registry.compiledVersion = original;
        await engine.cancel(failed.id);
        await sleep(200); // the cancel message reaches this process while the execution is not in flight yet
        resolve();
        return original(workflowId, version);
      };
    });
    try {
      await engine.retry(failed.id);
      await fired;
    } finally {
      registry.compiledVersion = original;
    }
    await sleep(2_000);
    const after = await view(t, failed.id);
    assert.equal(after.status, 'cancelled', 'the cancellation was overwritten');
    assert.equal(await effectCount(t, `${failed.id}:after`), 0, 'a step ran after the execution was cancelled');
  });

  it('lease: a process whose lease another process took over stops at its next save instead of running on', async () => {
    const id = uniqueId('lease-lost');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'inflight', action: 'probe.slow@1', input: { ms: 4_000, value: 'inflight' } },
      { id: 'count', action: 'probe.tally@1', input: {} },
    ]));
    const executionId = await startRun(t, id);
    await eventually(async () => ((await effectCount(t, `${executionId}:inflight`)) === 1 ? true : null), 10_000, 10);
    // What resume() in another process writes when it claims the execution (its lease had run out while this process was slow).
    const engine = t.server.get(WorkflowEngine);
    await engine.executionModel.updateOne({ _id: executionId }, { $set: { status: 'running', lease: { owner: 'other-process:1:takeover', until: new Date(Date.now() + 60_000) }, wakeAt: null } });
    await sleep(6_000);
    const redis = t.server.get(RedisConnection);
    assert.equal(await redis.client.get(`${redis.keyPrefix}probe:tally:${executionId}:count`), null, 'the old owner ran the next (non-idempotent) step after losing its lease');
    const record = await engine.executionModel.findById(executionId).lean();
    assert.equal(record?.lease?.owner, 'other-process:1:takeover', `the old owner overwrote the new owner's record (status ${record?.status})`);
  });
});

describe('core/engine: a denial followed by a crash', function () {
  this.timeout(90_000);
  const track = stopAfterEach();

  it('a step denied before the kill is not judged again after it: only the denied path\'s effects exist', async () => {
    const name = uniqueId('deny-kill');
    const mongodbUri = uniqueDatabaseUri('deny-kill');
    const victim = track(await startServerProcess({ mongodbUri, plugins: [STATIC_AUTH_PLUGIN, ...ENGINE_PLUGINS] }));
    const t = track(await startTestServer({ mongodbUri, plugins: ENGINE_PLUGINS, label: name }));
    const redis = t.server.get(RedisConnection);
    const switchKey = `${redis.keyPrefix}probe:switch:${name}`;
    await redis.client.set(switchKey, 'closed'); // e.g. consent missing / outside the window: the WhatsApp send is denied
    const auth = { authorization: 'Bearer role:manager', 'content-type': 'application/json' };
    const created = await fetch(`${victim.url}/api/workflows`, { method: 'POST', headers: auth, body: JSON.stringify(manualWorkflow(name, [
      { id: 'notify', action: 'probe.record@1', input: { value: 'whatsapp' }, policies: [{ type: 'probe.switch@1', config: { name } }], next: { denied: 'fallback', default: 'sent' } },
      { id: 'sent', action: 'probe.record@1', input: { value: 'sent' }, next: { default: 'end' } },
      { id: 'fallback', action: 'probe.record@1', input: { value: 'sms fallback' } },
      { id: 'inflight', action: 'probe.slow@1', input: { ms: 8_000, value: 'inflight' } },
    ])) });
    assert.equal(created.status, 201);
    const run = await fetch(`${victim.url}/api/workflows/${name}/run`, { method: 'POST', headers: auth, body: '{}' });
    const { eventId } = await run.json() as { eventId: string };
    const executionId = await eventually(async () => {
      const list = await t.request<{ items: Array<{ id: string }> }>('get', `/api/executions?eventId=${eventId}`, { as: 'viewer' });
      const id = list.body.items[0]?.id;
      return id && (await effectCount(t, `${id}:inflight`)) === 1 ? id : null;
    }, 30_000, 20);
    assert.equal(await effectCount(t, `${executionId}:fallback`), 1, 'the denied path ran before the kill');
    await redis.client.del(switchKey); // the policy would allow now
    await victim.kill('SIGKILL');
    const finished = await eventually(async () => { const v = await view(t, executionId); return v.status === 'succeeded' ? v : null; }, 40_000);
    assert.equal(await effectCount(t, `${executionId}:notify`), 0, `the denied step ran after the takeover (steps: ${JSON.stringify(finished.steps.map((s) => [s.stepId, s.status]))})`);
    assert.equal(await effectCount(t, `${executionId}:sent`), 0);
  });
});
