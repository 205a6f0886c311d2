import assert from 'node:assert/strict';
import { MongoConnection, WorkflowEngine } from '../../core/index.js';
import { MessageModel } from '../../plugins/whatsapp/models/message.js';
import { inboundText } from '../doubles/whatsapp-payloads.js';
import { eventually, startWhatsapp, type WhatsappHarness } from '../plugins/whatsapp/harness.js';

/**
 * The Graph API failing the way a real one does: 5xx answers and calls that never answer. The
 * single-send cases (a timeout repeated with the same key, a retried refusal) are in
 * tests/plugins/whatsapp/sending.test.ts; these run whole campaigns and workflows through them.
 */
describe('reliability: the Graph API answering 5xx or timing out', function () {
  this.timeout(90_000);
  let h: WhatsappHarness;
  before(async () => {
    h = await startWhatsapp('graph-faults', { bulk: { concurrency: 1, leaseMs: 2_000, maxRecipients: 100 }, retry: { baseDelayMs: 200, maxDelayMs: 1_000, maxAttempts: 3 } });
    h.graph.webhook = null;
  });
  after(async () => { await h?.stop(); });
  beforeEach(() => h.graph.reset());

  it('a campaign through 5xx answers and timeouts: 5xx are retried with backoff, timeouts are not resent, nobody gets two', async () => {
    const recipients = Array.from({ length: 12 }, (_, i) => `+4478200${String(i).padStart(5, '0')}`);
    h.graph.failNext({ code: 1, httpStatus: 500, message: 'An unknown error occurred', times: 2 });
    h.graph.failNext({ code: 2, httpStatus: 503, message: 'Service temporarily unavailable', times: 2 });
    const started = await h.t.request<{ campaign: { id: string } }>('post', '/api/messages/bulk', { as: 'manager', body: { template: { name: 'spring_sale', language: 'en_US' }, recipients } });
    assert.equal(started.status, 202);
    const id = started.body.campaign.id;
    // Two calls later time out (the harness's client gives up after 400 ms).
    await eventually(async () => h.graph.sends.length >= 6, 15_000, 10);
    h.graph.delayMs = 900;
    await eventually(async () => h.graph.sends.length >= 8, 15_000, 10);
    h.graph.delayMs = 0;
    const done = await eventually(async () => {
      const p = await h.t.request<{ campaign: { state: string; counts: Record<string, number> } }>('get', `/api/messages/bulk/${id}`, { as: 'agent' });
      return p.body.campaign.state === 'completed' ? p.body.campaign : null;
    }, 30_000, 200);
    assert.equal(done.counts.failed, 4, JSON.stringify(done.counts));
    assert.ok((done.counts.unknown ?? 0) >= 1, JSON.stringify(done.counts));

    const retry = await h.t.request<{ scheduled: Array<{ id: string; retryAt: string }> }>('post', '/api/delivery/retry-failed', { as: 'manager', body: {} });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.scheduled.length, 4, 'the four 5xx failures, not the unknown outcomes');
    assert.ok(retry.body.scheduled.every((s) => new Date(s.retryAt).getTime() > Date.now() - 1_000), 'each after a backoff');
    const messages = h.t.server.get(MongoConnection).model(MessageModel);
    await eventually(async () => (await messages.countDocuments({ campaignId: id, status: { $in: ['accepted', 'unknown'] } })) === 12, 30_000, 200);

    const accepted = new Map<string, number>();
    const final = await messages.find({ campaignId: id }).lean();
    for (const m of final) if (m.status === 'accepted') accepted.set(String(m.phone), (accepted.get(String(m.phone)) ?? 0) + 1);
    assert.ok([...accepted.values()].every((n) => n === 1));
    const unknown = final.filter((m) => m.status === 'unknown');
    assert.equal(accepted.size + unknown.length, 12);
    // Each unknown outcome reached the double once and was never sent again.
    for (const m of unknown) assert.equal(h.graph.sends.filter((s) => s.body.to === `+${m.phone}`).length, 1);
    // A failed recipient was called twice (the 5xx, then the retry); everyone else once.
    const calls = recipients.map((r) => h.graph.sends.filter((s) => s.body.to === r).length);
    assert.equal(calls.filter((n) => n === 2).length, 4);
    assert.equal(calls.filter((n) => n === 1).length, 8);
  });

  it('a workflow step retried by the engine after 5xx answers sends once, when the Graph API recovers', async () => {
    await h.t.server.get(WorkflowEngine).registry.store({
      id: 'graph-5xx', version: 1, enabled: true, trigger: { type: 'whatsapp.message@1', config: { text: { keywords: ['RETRYME'] } } },
      steps: [{ id: 'answer', action: 'whatsapp.reply@1', input: { messageId: '{{trigger.providerMessageId}}', text: 'Got it' }, retry: { max: 4, backoff: { initialMs: 200, maxMs: 1000 } } }],
    } as never, { source: 'api', actor: 'test' });
    h.graph.failNext({ code: 2, httpStatus: 503, message: 'Service temporarily unavailable', times: 2 });
    const inbound = inboundText('RETRYME', { from: '447820099999' });
    assert.equal((await h.deliver(inbound.payload)).status, 200);
    const answers = () => h.graph.sends.filter((s) => (s.body.context as { message_id?: string } | undefined)?.message_id === inbound.id);
    await eventually(async () => answers().length === 3, 30_000, 100);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(answers().length, 3, 'two refused calls and one accepted, nothing after');
    const message = await h.t.server.get(MongoConnection).model(MessageModel).find({ 'context.messageId': inbound.id }).lean();
    assert.deepEqual(message.map((m) => m.status), ['accepted']);
  });
});
