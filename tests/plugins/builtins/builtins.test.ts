import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EngineClock, Scheduler, WorkflowEngine } from '../../../core/index.js';
import { eventually, startTestServer, type TestServer } from '../../helpers/test-host.js';
import { createWorkflow, ENGINE_PLUGINS, manualWorkflow, runWorkflow, uniqueId, type ExecutionView } from '../../core/engine/helpers.js';

describe('built-in plugins flow, http and schedule', () => {
  let t: TestServer;
  let receiver: Server;
  let receiverUrl = '';
  const received: Array<{ body: string; key: string | undefined }> = [];
  let failuresLeft = 0;

  before(async () => {
    process.env.WORKFLOW_TEST_HOOK_SECRET = 'hook-secret-for-tests';
    t = await startTestServer({ label: 'builtins', plugins: ENGINE_PLUGINS });
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        if (failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(503).end('busy');
          return;
        }
        received.push({ body, key: req.headers['idempotency-key'] as string | undefined });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, echoed: JSON.parse(body || '{}') }));
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  const executionsOf = async (workflowId: string) => (await t.request<{ items: Array<{ id: string; status: string }> }>('get', `/api/executions?workflowId=${workflowId}`, { as: 'viewer' })).body.items;

  it('http.webhook starts its workflow from POST /hooks/<path>, checking the HMAC signature when configured', async () => {
    const id = uniqueId('hook');
    await createWorkflow(t, { id, trigger: { type: 'http.webhook@1', config: { path: id, secretEnv: 'WORKFLOW_TEST_HOOK_SECRET' } }, steps: [{ id: 'say', action: 'flow.log@1', input: { message: 'order {{trigger.body.orderId}}' } }] });
    const body = JSON.stringify({ orderId: 'A-1' });
    const unsigned = await t.request<{ error: { code: string } }>('post', `/hooks/${id}`, { rawBody: body, headers: { 'content-type': 'application/json' } });
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.body.error.code, 'WEBHOOK_SIGNATURE_INVALID');
    const wrong = await t.request('post', `/hooks/${id}`, { rawBody: body, headers: { 'content-type': 'application/json', 'x-signature-256': `sha256=${'0'.repeat(64)}` } });
    assert.equal(wrong.status, 401);
    assert.equal((await executionsOf(id)).length, 0);
    const signature = `sha256=${createHmac('sha256', 'hook-secret-for-tests').update(body).digest('hex')}`;
    const headers = { 'content-type': 'application/json', 'x-signature-256': signature, 'idempotency-key': `order-${id}` };
    const accepted = await t.request<{ duplicate: boolean }>('post', `/hooks/${id}`, { rawBody: body, headers });
    assert.equal(accepted.status, 202);
    const repeated = await t.request<{ duplicate: boolean }>('post', `/hooks/${id}`, { rawBody: body, headers });
    assert.equal(repeated.body.duplicate, true);
    const runs = await eventually(async () => {
      const items = await executionsOf(id);
      return items.length === 1 && items[0]?.status === 'succeeded' ? items : null;
    });
    const view = (await t.request<ExecutionView>('get', `/api/executions/${runs[0]?.id}`, { as: 'viewer' })).body;
    assert.deepEqual(view.steps[0]?.input, { message: 'order A-1' });
    const unknown = await t.request<{ error: { code: string } }>('post', '/hooks/nobody-listens', { body: {} });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'WEBHOOK_NOT_FOUND');
  });

  it('http.request calls out with the step idempotency key and retries a 503', async () => {
    const id = uniqueId('callout');
    failuresLeft = 1;
    await createWorkflow(t, manualWorkflow(id, [{ id: 'call', action: 'http.request@1', input: { url: `${receiverUrl}/orders`, body: { n: '{{trigger.n}}' } }, retry: { max: 2, backoff: { initialMs: 1000 } } }]));
    const started = await t.request<{ eventId: string }>('post', `/api/workflows/${id}/run`, { as: 'manager', body: { payload: { n: 7 } } });
    await eventually(async () => ((await executionsOf(id))[0]?.status === 'waiting' ? true : null));
    t.server.get(EngineClock).advance(2_000);
    await t.server.get(WorkflowEngine).sweep();
    const done = await eventually(async () => ((await executionsOf(id))[0]?.status === 'succeeded' ? (await executionsOf(id))[0] : null));
    const view = (await t.request<ExecutionView>('get', `/api/executions/${done?.id}`, { as: 'viewer' })).body;
    assert.deepEqual(view.steps.map((s) => s.status), ['retrying', 'succeeded']);
    assert.deepEqual((view.outputs.call as { body: { echoed: unknown } }).body.echoed, { n: 7 });
    assert.equal(received.at(-1)?.key, `${done?.id}:call`);
    assert.ok(started.body.eventId);
  });

  it('flow.emit starts workflows listening with flow.event, once per emitting step', async () => {
    const listener = uniqueId('listener');
    const name = `test.${listener}`;
    await createWorkflow(t, { id: listener, trigger: { type: 'flow.event@1', config: { name } }, steps: [{ id: 'got', action: 'probe.record@1', input: { value: '{{trigger.data.what}}' } }] });
    const emitter = uniqueId('emitter');
    await createWorkflow(t, manualWorkflow(emitter, [{ id: 'tell', action: 'flow.emit@1', input: { name, data: { what: 'hello' } } }]));
    const run = await runWorkflow(t, emitter);
    assert.equal(run.status, 'succeeded');
    const heard = await eventually(async () => {
      const items = await executionsOf(listener);
      return items[0]?.status === 'succeeded' ? items : null;
    });
    assert.equal(heard.length, 1);
  });

  it('schedule.cron keeps one Agenda job per workflow and starts the workflow when it fires', async () => {
    const id = uniqueId('cron');
    await createWorkflow(t, { id, trigger: { type: 'schedule.cron@1', config: { every: '0 3 * * *', timezone: 'Europe/Paris' } }, steps: [{ id: 'beat', action: 'flow.log@1', input: { message: 'beat {{trigger.firedAt}}' } }] });
    const scheduler = t.server.get(Scheduler);
    const jobs = await eventually(async () => {
      const list = (await scheduler.list('schedule.fire')).filter((j) => (j.data as { workflowId?: string }).workflowId === id);
      return list.length ? list : null;
    });
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.repeatInterval, '0 3 * * *');
    // The workflow's fire job, run once now, fires the occurrence due (the last 03:00 in Paris).
    await scheduler.now('schedule.fire', { workflowId: id, every: '0 3 * * *', timezone: 'Europe/Paris' });
    await eventually(async () => ((await executionsOf(id))[0]?.status === 'succeeded' ? true : null));
    await t.request('post', `/api/workflows/${id}/disable`, { as: 'manager' });
    await eventually(async () => ((await scheduler.list('schedule.fire')).some((j) => (j.data as { workflowId?: string }).workflowId === id && j.repeatInterval) ? null : true));
  });

  it('fails an execution that runs past its timeout, abandoning its step', async () => {
    const id = uniqueId('watchdog');
    await createWorkflow(t, manualWorkflow(id, [{ id: 'wait', action: 'flow.delay@1', input: { ms: 10_000_000 } }], { timeout: 60_000 }));
    await t.request('post', `/api/workflows/${id}/run`, { as: 'manager', body: {} });
    await eventually(async () => ((await executionsOf(id))[0]?.status === 'waiting' ? true : null));
    t.server.get(EngineClock).advance(61_000);
    await t.server.get(WorkflowEngine).sweep();
    const failed = await eventually(async () => ((await executionsOf(id))[0]?.status === 'failed' ? (await executionsOf(id))[0] : null));
    const view = (await t.request<ExecutionView>('get', `/api/executions/${failed?.id}`, { as: 'viewer' })).body;
    assert.equal(view.error?.code, 'EXECUTION_TIMEOUT');
    const listed = await t.request<{ items: Array<{ id: string }> }>('get', `/api/executions?status=failed&workflowId=${id}`, { as: 'viewer' });
    assert.equal(listed.body.items.length, 1);
  });
});
