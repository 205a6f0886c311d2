/**
 * A workflow step guarded by `rate.limit@1` is parked by the engine while its sender is paused
 * and runs by itself once the sender is resumed: the deferral is recorded, the send is not lost.
 */
import assert from 'node:assert/strict';
import { createWorkflow, runWorkflow, uniqueId, waitForExecution } from '../../core/engine/helpers.js';
import { eventually } from '../../helpers/test-host.js';
import { newPhone, startRate, type RateHarness } from './harness.js';

const SENDER = '500001';

describe('plugin rate: deferred workflow steps', () => {
  let h: RateHarness;
  before(async () => {
    h = await startRate('rate-workflow', { whatsapp: { senders: [{ phoneNumberId: SENDER }] } }, ['audit', 'flow', 'whatsapp', 'consent', 'rate-limit']);
  });
  after(async () => { await h.stop(); });

  it('parks a whatsapp.send@1 step while the sender is paused, then sends it after resume', async () => {
    const phone = newPhone();
    const id = uniqueId('paced');
    await createWorkflow(h.t, {
      id, name: 'paced send', trigger: { type: 'flow.manual@1' },
      steps: [{ id: 'send', action: 'whatsapp.send@1', input: { to: phone, from: SENDER, template: { name: 'order_update', language: 'en_US' } }, policies: [{ type: 'rate.limit@1' }] }],
    });
    assert.equal((await h.t.request('post', `/api/rate-limits/${SENDER}/pause`, { as: 'admin', body: {} })).status, 200);
    const waiting = await runWorkflow(h.t, id, {}, ['waiting']);
    const step = waiting.steps.find((s) => s.stepId === 'send');
    assert.equal(step?.status, 'deferred');
    assert.deepEqual(step?.decisions.map((d) => [d.policy, d.decision, d.code]), [['rate.limit@1', 'defer', 'RATE_SENDER_PAUSED']]);
    assert.ok(waiting.wakeAt, 'the engine knows when to try again');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(h.graph.sends.filter((s) => s.body.to === `+${phone}`).length, 0, 'nothing is sent while paused');

    await h.t.request('post', `/api/rate-limits/${SENDER}/resume`, { as: 'admin' });
    const events = await h.t.request<{ items: Array<{ id: string; eventId: string }> }>('get', `/api/executions?workflowId=${id}`, { as: 'viewer' });
    const done = await waitForExecution(h.t, events.body.items[0]?.eventId as string, ['succeeded'], 10_000);
    assert.equal(done.status, 'succeeded');
    await eventually(async () => h.graph.sends.filter((s) => s.body.to === `+${phone}`).length === 1);
  });
});
