import assert from 'node:assert/strict';
import { EngineClock, WorkflowEngine } from '../../../core/index.js';
import { backoffDelay } from '../../../core/engine/execution-runner.js';
import { eventually, nextEvent, startTestServer, type TestServer } from '../../helpers/test-host.js';
import { createWorkflow, effectCount, ENGINE_PLUGINS, manualWorkflow, runWorkflow, uniqueId, waitForExecution, type ExecutionView } from './helpers.js';

describe('core/engine: executions', () => {
  let t: TestServer;
  before(async () => {
    process.env.WORKFLOW_TEST_REGION = 'eu-west';
    t = await startTestServer({ label: 'execution', plugins: ENGINE_PLUGINS });
  });
  after(async () => { await t.stop(); });

  it('runs steps in order, passing outputs through templates with their types', async () => {
    const id = uniqueId('chain');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'greet', action: 'hello.greet@1', input: { name: '{{upper trigger.name}}' } },
      { id: 'note', action: 'probe.record@1', input: { value: 'said {{steps.greet.output.text}}' } },
      { id: 'echo', action: 'flow.log@1', input: { message: 'ok', data: { greeting: '{{steps.greet.output}}' } } },
    ]));
    const run = await runWorkflow(t, id, { name: 'ada' });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.deepEqual(run.steps.map((s) => [s.stepId, s.status]), [['greet', 'succeeded'], ['note', 'succeeded'], ['echo', 'succeeded']]);
    assert.deepEqual(run.steps[1]?.input, { value: 'said Hello, ADA!' });
    assert.equal((run.steps[2]?.input as { data: { greeting: { name: string } } }).data.greeting.name, 'ADA');
  });

  it('branches by the port an action returns, and skips a step whose if does not match', async () => {
    const id = uniqueId('branch');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'choose', action: 'probe.pick@1', input: { port: '{{trigger.way}}' }, next: { left: 'goLeft', right: 'goRight' } },
      { id: 'goLeft', action: 'probe.record@1', input: { value: 'left' }, next: { default: 'end' } },
      { id: 'goRight', action: 'probe.record@1', input: { value: 'right' } },
      { id: 'onlyBig', action: 'probe.record@1', input: { value: 'big' }, if: { properties: { trigger: { properties: { size: { minimum: 10 } } } } } },
    ]));
    const left = await runWorkflow(t, id, { way: 'left', size: 50 });
    assert.deepEqual(left.steps.map((s) => s.stepId), ['choose', 'goLeft']);
    const right = await runWorkflow(t, id, { way: 'right', size: 1 });
    assert.deepEqual(right.steps.map((s) => [s.stepId, s.status]), [['choose', 'succeeded'], ['goRight', 'succeeded'], ['onlyBig', 'skipped']]);
  });

  it('fans out with forEach and runs parallel branches, collecting outputs', async () => {
    const id = uniqueId('fanout');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'each', action: 'probe.record@1', forEach: '{{trigger.names}}', input: { value: '{{index}}:{{item}}' } },
      { id: 'both', parallel: [{ id: 'p1', action: 'probe.record@1', input: { value: 'one' } }, { id: 'p2', action: 'probe.record@1', input: { value: 'two' } }] },
      { id: 'after', action: 'flow.log@1', input: { message: '{{steps.p1.output.value}} {{steps.p2.output.value}}' } },
    ]));
    const run = await runWorkflow(t, id, { names: ['a', 'b', 'c'] });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.deepEqual(run.outputs.each, [{ value: '0:a' }, { value: '1:b' }, { value: '2:c' }]);
    assert.deepEqual(run.outputs.both, { p1: { value: 'one' }, p2: { value: 'two' } });
    assert.equal((run.outputs.after as { message: string }).message, 'one two');
    assert.equal(await effectCount(t, run.id), 5);
  });

  it('shows workflows the WORKFLOW_ environment variables, and no others', async () => {
    const id = uniqueId('env');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'region', action: 'probe.record@1', input: { value: 'region {{env.WORKFLOW_TEST_REGION}}' } }]));
    const run = await runWorkflow(t, id);
    assert.deepEqual(run.outputs.region, { value: 'region eu-west' });
    const secret = uniqueId('env-secret');
    await createWorkflow(t, manualWorkflow(secret, [{ id: 'leak', action: 'probe.record@1', input: { value: '{{env.MONGODB_URI}}' } }]));
    const refused = await runWorkflow(t, secret);
    assert.equal(refused.error?.code, 'TEMPLATE_MISSING_VARIABLE', 'MONGODB_URI is not visible to workflows');
  });

  it('fails a step whose template variable is missing, with a clear error, and no retry', async () => {
    const id = uniqueId('strict');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'greet', action: 'hello.greet@1', input: { name: '{{trigger.name}}' }, retry: { max: 3 } }]));
    const run = await runWorkflow(t, id, {});
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.code, 'TEMPLATE_MISSING_VARIABLE');
    assert.match(run.error?.message ?? '', /trigger\.name/);
    assert.equal(run.steps.length, 1);
  });

  it('retries with exponential backoff and jitter on the engine clock, then succeeds', async () => {
    const id = uniqueId('retry');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'flaky', action: 'probe.flaky@1', input: { failures: 2, retryable: true }, retry: { max: 3, backoff: { initialMs: 60_000, factor: 2 } } }]));
    const engine = t.server.get(WorkflowEngine);
    const clock = t.server.get(EngineClock);
    const started = await t.request<{ eventId: string }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    const first = await waitForExecution(t, started.body.eventId, ['waiting']);
    const firstDelay = new Date(first.wakeAt as string).getTime() - clock.now().getTime();
    assert.ok(firstDelay > 25_000 && firstDelay <= 60_000, `first delay ${firstDelay} should be in [30s, 60s]`);
    clock.advance(61_000);
    await engine.sweep();
    const second = await eventually(async () => {
      const view = (await t.request<ExecutionView>('get', `/api/executions/${first.id}`, { as: 'viewer' })).body;
      return view.status === 'waiting' && view.steps.length === 2 ? view : null;
    });
    const secondDelay = new Date(second.wakeAt as string).getTime() - clock.now().getTime();
    assert.ok(secondDelay > 55_000 && secondDelay <= 120_000, `second delay ${secondDelay} should be in [60s, 120s]`);
    clock.advance(121_000);
    await engine.sweep();
    const done = await waitForExecution(t, started.body.eventId, ['succeeded']);
    assert.deepEqual(done.steps.map((s) => [s.status, s.attempt]), [['retrying', 0], ['retrying', 1], ['succeeded', 2]]);
    for (let attempt = 0; attempt < 5; attempt++) {
      const delay = backoffDelay({ max: 5, backoff: { initialMs: 1000, factor: 2, maxMs: 10_000 } }, attempt);
      const ceiling = Math.min(10_000, 1000 * 2 ** attempt);
      assert.ok(delay >= ceiling / 2 && delay <= ceiling);
    }
  });

  it('takes the error port after the last retry, or the workflow onError path', async () => {
    const ported = uniqueId('errport');
    await createWorkflow(t, manualWorkflow(ported, [
      { id: 'bad', action: 'probe.flaky@1', input: { failures: 5, retryable: false }, next: { error: 'recover' } },
      { id: 'recover', action: 'probe.record@1', input: { value: 'recovered from {{error.code}}' } },
    ]));
    const viaPort = await runWorkflow(t, ported);
    assert.equal(viaPort.status, 'succeeded');
    assert.deepEqual(viaPort.steps[1]?.input, { value: 'recovered from PROBE_FLAKY' });

    const handled = uniqueId('onerror');
    await createWorkflow(t, manualWorkflow(handled, [
      { id: 'bad', action: 'probe.flaky@1', input: { failures: 5, retryable: false } },
      { id: 'never', action: 'probe.record@1', input: { value: 'never' } },
      { id: 'alarm', action: 'probe.record@1', input: { value: 'alarm for {{error.stepId}}' } },
    ], { onError: 'alarm' }));
    const viaOnError = await runWorkflow(t, handled);
    assert.equal(viaOnError.status, 'failed');
    assert.equal(viaOnError.error?.stepId, 'bad');
    assert.deepEqual(viaOnError.steps.map((s) => s.stepId), ['bad', 'alarm']);
    assert.deepEqual(viaOnError.steps[1]?.input, { value: 'alarm for bad' });
  });

  it('records policy denials with their reason and ends the path', async () => {
    const id = uniqueId('deny');
    await createWorkflow(t, manualWorkflow(id, [
      { id: 'send', action: 'probe.record@1', input: { value: 'x' }, policies: [{ type: 'probe.gate@1', config: { decision: 'allow' } }, { type: 'probe.gate@1', config: { decision: 'deny' } }] },
      { id: 'later', action: 'probe.record@1', input: { value: 'y' } },
    ]));
    const run = await runWorkflow(t, id);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.steps.length, 1);
    assert.equal(run.steps[0]?.status, 'denied');
    assert.deepEqual(run.steps[0]?.decisions.map((d) => d.decision), ['allow', 'deny']);
    assert.equal(run.steps[0]?.decisions[1]?.reason, 'the gate is closed');
    assert.equal(await effectCount(t, run.id), 0);
  });

  it('parks a deferred step and resumes it when its time comes', async () => {
    const id = uniqueId('defer');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'wait', action: 'flow.delay@1', input: { ms: 3_600_000 } }, { id: 'after', action: 'probe.record@1', input: { value: 'done' } }]));
    const started = await t.request<{ eventId: string }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    const waiting = await waitForExecution(t, started.body.eventId, ['waiting']);
    assert.equal(waiting.steps[0]?.status, 'deferred');
    assert.equal(waiting.steps[0]?.decisions[0]?.code, 'DELAY');
    t.server.get(EngineClock).advance(3_601_000);
    await t.server.get(WorkflowEngine).sweep();
    const done = await waitForExecution(t, started.body.eventId, ['succeeded']);
    assert.deepEqual(done.steps.map((s) => [s.stepId, s.status]), [['wait', 'deferred'], ['wait', 'succeeded'], ['after', 'succeeded']]);
  });

  it('runs a redelivered event once', async () => {
    const id = uniqueId('dedupe');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'once', action: 'probe.record@1', input: { value: 'once' } }]));
    const body = { payload: {}, idempotencyKey: `delivery-${id}` };
    const first = await t.request<{ eventId: string; duplicate: boolean }>('post', `/api/workflows/${id}/run`, { as: 'manager', body });
    const second = await t.request<{ eventId: string; duplicate: boolean }>('post', `/api/workflows/${id}/run`, { as: 'manager', body });
    assert.equal(first.body.duplicate, false);
    assert.equal(second.body.duplicate, true);
    assert.equal(second.body.eventId, first.body.eventId);
    const run = await waitForExecution(t, first.body.eventId, ['succeeded']);
    const list = await t.request<{ items: unknown[] }>('get', `/api/executions?workflowId=${id}`, { as: 'viewer' });
    assert.equal(list.body.items.length, 1);
    assert.equal(await effectCount(t, run.id), 1);
  });

  it('pins the version an execution started with', async () => {
    const id = uniqueId('pin');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'wait', action: 'flow.delay@1', input: { ms: 1_000_000 } }, { id: 'say', action: 'probe.record@1', input: { value: 'v1' } }]));
    const started = await t.request<{ eventId: string }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    await waitForExecution(t, started.body.eventId, ['waiting']);
    const updated = await t.request<{ version: number }>('put', `/api/workflows/${id}`, { as: 'manager', body: manualWorkflow(id, [{ id: 'wait', action: 'flow.delay@1', input: { ms: 1 } }, { id: 'say', action: 'probe.record@1', input: { value: 'v2' } }]) });
    assert.equal(updated.body.version, 2);
    t.server.get(EngineClock).advance(1_001_000);
    await t.server.get(WorkflowEngine).sweep();
    const done = await waitForExecution(t, started.body.eventId, ['succeeded']);
    assert.equal(done.workflowVersion, 1);
    assert.deepEqual(done.steps.at(-1)?.input, { value: 'v1' });
    const versions = await t.request<{ versions: Array<{ version: number }> }>('get', `/api/workflows/${id}`, { as: 'viewer' });
    assert.deepEqual(versions.body.versions.map((v) => v.version), [2, 1]);
  });

  it('cancels a running execution without repeating its step, and retries a failed one from the failed step', async () => {
    const id = uniqueId('cancel');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'slow', action: 'probe.slow@1', input: { ms: 5_000, value: 'slow' } }, { id: 'after', action: 'probe.record@1', input: { value: 'after' } }]));
    const started = await t.request<{ eventId: string }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    const running = await waitForExecution(t, started.body.eventId, ['running']);
    const cancelled = await t.request<{ status: string }>('post', `/api/executions/${running.id}/cancel`, { as: 'manager' });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const again = await t.request<{ error: { code: string } }>('post', `/api/executions/${running.id}/cancel`, { as: 'manager' });
    assert.equal(again.status, 409);
    await new Promise((r) => setTimeout(r, 300));
    const view = (await t.request<ExecutionView>('get', `/api/executions/${running.id}`, { as: 'viewer' })).body;
    assert.equal(view.status, 'cancelled');
    assert.equal(view.steps.length, 0);

    const failing = uniqueId('retryexec');
    await createWorkflow(t, manualWorkflow(failing, [{ id: 'first', action: 'probe.record@1', input: { value: 'first' } }, { id: 'bad', action: 'probe.flaky@1', input: { failures: 1, retryable: false } }]));
    const failed = await runWorkflow(t, failing);
    assert.equal(failed.status, 'failed');
    const retried = await t.request('post', `/api/executions/${failed.id}/retry`, { as: 'manager' });
    assert.equal(retried.status, 202);
    const done = await eventually(async () => {
      const v = (await t.request<ExecutionView>('get', `/api/executions/${failed.id}`, { as: 'viewer' })).body;
      return v.status === 'succeeded' ? v : null;
    });
    assert.deepEqual(done.steps.map((s) => [s.stepId, s.status]), [['first', 'succeeded'], ['bad', 'failed'], ['bad', 'succeeded']]);
    assert.equal(await effectCount(t, failed.id), 1);
    const notFailed = await t.request('post', `/api/executions/${failed.id}/retry`, { as: 'manager' });
    assert.equal(notFailed.status, 409);
    const agentTries = await t.request('post', `/api/executions/${failed.id}/retry`, { as: 'agent' });
    assert.equal(agentTries.status, 403);
  });

  it('dry-runs a workflow: shows inputs and policy decisions and writes nothing', async () => {
    const id = uniqueId('dry');
    const workflow = manualWorkflow(id, [
      { id: 'greet', action: 'hello.greet@1', input: { name: '{{trigger.name}}' }, policies: [{ type: 'hello.name-allowed@1' }] },
      { id: 'note', action: 'probe.record@1', input: { value: '{{steps.greet.output.text}}' }, policies: [{ type: 'probe.gate@1', config: { decision: 'deny' } }] },
    ]);
    await createWorkflow(t, workflow);
    const before = await t.request<{ items: unknown[] }>('get', '/api/hello/greetings?limit=100', { as: 'viewer' });
    const result = await t.request<{ matched: boolean; status: string; steps: Array<{ stepId: string; status: string; input: unknown; decisions: Array<{ decision: string }> }> }>('post', `/api/workflows/${id}/test`, { as: 'manager', body: { event: { name: 'Dry' } } });
    assert.equal(result.status, 200);
    assert.equal(result.body.matched, true);
    assert.deepEqual(result.body.steps.map((s) => [s.stepId, s.status]), [['greet', 'succeeded'], ['note', 'denied']]);
    assert.deepEqual(result.body.steps[0]?.input, { name: 'Dry' });
    assert.deepEqual(result.body.steps[1]?.decisions.map((d) => d.decision), ['deny']);
    const after = await t.request<{ items: unknown[] }>('get', '/api/hello/greetings?limit=100', { as: 'viewer' });
    assert.equal(after.body.items.length, before.body.items.length);
    const executions = await t.request<{ items: unknown[] }>('get', `/api/executions?workflowId=${id}`, { as: 'viewer' });
    assert.equal(executions.body.items.length, 0);
  });

  it('streams started, step and finished events to a socket.io client with executions:read', async () => {
    const id = uniqueId('socket');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'one', action: 'probe.record@1', input: { value: 'x' } }]));
    const socket = await t.socket({ as: 'viewer' });
    const ack = await socket.emitWithAck('subscribe', ['executions']) as { subscribed: string[] };
    assert.deepEqual(ack.subscribed, ['executions']);
    const started = nextEvent<{ workflowId: string; executionId: string }>(socket, 'execution.started', 5_000, (e) => e.workflowId === id);
    const step = nextEvent<{ workflowId: string; stepId: string; status: string; durationMs: number }>(socket, 'execution.step', 5_000, (e) => e.workflowId === id);
    const finished = nextEvent<{ workflowId: string; status: string; durationMs: number }>(socket, 'execution.finished', 5_000, (e) => e.workflowId === id);
    await t.request('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    assert.ok((await started).executionId);
    assert.deepEqual([(await step).stepId, (await step).status], ['one', 'succeeded']);
    assert.equal((await finished).status, 'succeeded');
    assert.equal(typeof (await finished).durationMs, 'number');
  });

  it('runs workflows from plugin triggers: a greeting starts a hello.greeting workflow', async () => {
    const id = uniqueId('ongreet');
    await createWorkflow(t, { id, trigger: { type: 'hello.greeting@1', config: { name: 'Zed' } }, steps: [{ id: 'note', action: 'probe.record@1', input: { value: 'greeted {{trigger.name}}' } }] });
    await t.request('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Someone else' } });
    const greeted = await t.request<{ id: string }>('post', '/api/hello/greetings', { as: 'agent', body: { name: 'Zed' } });
    const executions = await eventually(async () => {
      const list = await t.request<{ items: Array<{ id: string; status: string }> }>('get', `/api/executions?workflowId=${id}`, { as: 'viewer' });
      return list.body.items.length && list.body.items.every((e) => e.status === 'succeeded') ? list.body.items : null;
    });
    assert.equal(executions.length, 1);
    const view = (await t.request<ExecutionView>('get', `/api/executions/${executions[0]?.id}`, { as: 'viewer' })).body;
    assert.deepEqual(view.steps[0]?.input, { value: 'greeted Zed' });
    assert.ok(greeted.body.id);
  });

  it('disabling a workflow cancels its waiting executions and stops new ones', async () => {
    const id = uniqueId('disable');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'wait', action: 'flow.delay@1', input: { ms: 1_000_000 } }]));
    const started = await t.request<{ eventId: string }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    await waitForExecution(t, started.body.eventId, ['waiting']);
    const disabled = await t.request<{ cancelledExecutions: number; workflow: { enabled: boolean } }>('post', `/api/workflows/${id}/disable`, { as: 'manager' });
    assert.equal(disabled.body.cancelledExecutions, 1);
    assert.equal(disabled.body.workflow.enabled, false);
    const refused = await t.request<{ error: { code: string } }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'WORKFLOW_NOT_ACTIVE');
  });
});
