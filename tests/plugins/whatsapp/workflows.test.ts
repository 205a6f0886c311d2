import assert from 'node:assert/strict';
import { LoggerToken, WorkflowEngine } from '../../../core/index.js';
import { ReplyAction } from '../../../plugins/whatsapp/actions/reply.js';
import { MessageTrigger } from '../../../plugins/whatsapp/triggers/message.js';
import { PreferencesTrigger, StatusTrigger, TemplateStatusTrigger } from '../../../plugins/whatsapp/triggers/status.js';
import type { MessageEvent } from '../../../plugins/whatsapp/events.js';
import { inboundText, statusObject, statuses } from '../../doubles/whatsapp-payloads.js';
import { eventually, startWhatsapp, type WhatsappHarness } from './harness.js';

const event = (over: Partial<MessageEvent>): MessageEvent => ({
  messageId: 'm', providerMessageId: 'wamid.X', phoneNumberId: '106540352242922', from: '16315551181', fromUserId: null,
  contact: { id: 'wa:16315551181' }, type: 'text', text: ' Stop ', timestamp: new Date().toISOString(), ...over,
});

describe('plugin whatsapp: triggers and workflows', () => {
  it('whatsapp.message@1 filters on type, text, customer and business number', () => {
    const trigger = new MessageTrigger();
    assert.equal(trigger.matches({ text: { keywords: ['STOP', 'UNSUBSCRIBE'] } }, event({})), true);
    assert.equal(trigger.matches({ text: { keywords: ['STOP'] } }, event({ text: 'stop please' })), false);
    assert.equal(trigger.matches({ text: { keywords: ['STOP'], caseSensitive: true } }, event({})), false);
    assert.equal(trigger.matches({ text: { contains: 'order' } }, event({ text: 'Where is my ORDER?' })), true);
    assert.equal(trigger.matches({ text: { pattern: '^#\\d+$' } }, event({ text: '#123' })), true);
    assert.equal(trigger.matches({ text: { equals: 'yes' } }, event({ type: 'image', text: null })), false);
    assert.equal(trigger.matches({ types: ['button', 'interactive'] }, event({})), false);
    assert.equal(trigger.matches({ types: ['text'] }, event({})), true);
    assert.equal(trigger.matches({ from: ['+1 (631) 555-1181'] }, event({})), true);
    assert.equal(trigger.matches({ from: ['US.1349'] }, event({ from: null, fromUserId: 'US.1349' })), true);
    assert.equal(trigger.matches({ from: ['+44 7700 900000'] }, event({})), false);
    assert.equal(trigger.matches({ phoneNumberIds: ['999'] }, event({})), false);
  });

  it('status, template-status and preferences triggers filter on their config', () => {
    const failed = { providerMessageId: 'w', status: 'failed', timestamp: '', phoneNumberId: '1', errors: [{ code: 131026, category: 'undeliverable', retryable: false, reason: '' }] };
    assert.equal(new StatusTrigger().matches({ statuses: ['failed'], errorCodes: [131026] }, failed), true);
    assert.equal(new StatusTrigger().matches({ statuses: ['read'] }, failed), false);
    assert.equal(new TemplateStatusTrigger().matches({ events: ['APPROVED'] }, { event: 'REJECTED', templateName: 'x' }), false);
    assert.equal(new PreferencesTrigger().matches({ values: ['stop'] }, { value: 'stop' }), true);
  });

  describe('with the workflow engine', () => {
    let h: WhatsappHarness;
    before(async () => {
      h = await startWhatsapp('wa_flows');
      h.graph.webhook = null;
      await h.t.server.get(WorkflowEngine).registry.store({
        id: 'wa-stop-ack', version: 1, enabled: true,
        trigger: { type: 'whatsapp.message@1', config: { text: { keywords: ['STOP'] } } },
        steps: [
          { id: 'read', action: 'whatsapp.mark-read@1', input: { messageId: '{{trigger.providerMessageId}}' } },
          { id: 'ack', action: 'whatsapp.reply@1', input: { messageId: '{{trigger.providerMessageId}}', text: 'You will get no more offers, {{trigger.contact.name}}.' } },
        ],
      } as never, { source: 'api', actor: 'test' });
    });
    after(async () => { await h.stop(); });

    it('an inbound STOP runs the workflow once: marked read and answered, even when redelivered', async () => {
      const stop = inboundText('STOP', { from: '447700911111', name: 'Grace' });
      await h.deliver(stop.payload);
      await h.deliver(stop.payload);
      await h.deliver(inboundText('hello', { from: '447700911111' }).payload);
      const reply = await eventually(async () => h.graph.sends.find((s) => (s.body.context as { message_id?: string } | undefined)?.message_id === stop.id), 15_000, 100);
      assert.deepEqual(reply.body.text, { body: 'You will get no more offers, Grace.' });
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(h.graph.sends.length, 1);
      assert.equal(h.graph.requests.filter((r) => r.body.status === 'read' && r.body.message_id === stop.id).length, 1);
    });

    it('recalls a reply an earlier attempt handed to Meta (a step re-run after a crash), and nothing for a step that never sent', async () => {
      const list = await h.t.request<{ items: Array<{ id: string; status: string }> }>('get', '/api/executions?workflowId=wa-stop-ack', { as: 'viewer' });
      const execution = list.body.items.find((e) => e.status === 'succeeded');
      assert.ok(execution, list.text);
      const view = await h.t.request<{ outputs: { ack: { messageId: string; status: string } } }>('get', `/api/executions/${execution.id}`, { as: 'viewer' });
      const reply = h.t.server.get(ReplyAction);
      const ctx = (stepId: string) => ({ executionId: execution.id, workflowId: 'wa-stop-ack', stepId, idempotencyKey: `${execution.id}:${stepId}`, simulate: false, attempt: 0, logger: h.t.server.get(LoggerToken), signal: new AbortController().signal });
      const recalled = await reply.recall({ messageId: 'wamid.any', text: 'not sent again' }, ctx('ack'));
      assert.equal(recalled?.output.messageId, view.body.outputs.ack.messageId);
      assert.equal(recalled?.output.status, view.body.outputs.ack.status);
      assert.equal(await reply.recall({ messageId: 'wamid.any', text: 'never sent' }, ctx('other')), null);
      assert.equal(h.graph.sends.length, 1, 'recalling sends nothing');
    });

    it('hands statuses to the engine without failing when no workflow listens', async () => {
      const res = await h.deliver(statuses([statusObject('wamid.unknown1', 'delivered')]));
      assert.equal(res.status, 200);
    });

    it('lists its contributions under GET /api/plugins', async () => {
      const plugins = await h.t.request<{ items: Array<{ id: string; triggers: Array<{ type: string }>; actions: Array<{ type: string }>; policies: Array<{ type: string }>; jobs: string[]; topics: Array<{ name: string }> }> }>('get', '/api/plugins', { as: 'viewer' });
      const whatsapp = plugins.body.items.find((p) => p.id === 'whatsapp');
      assert.deepEqual(whatsapp?.triggers.map((t) => t.type).sort(), ['whatsapp.message@1', 'whatsapp.preferences@1', 'whatsapp.status@1', 'whatsapp.template-status@1']);
      assert.deepEqual(whatsapp?.actions.map((t) => t.type).sort(), ['whatsapp.mark-read@1', 'whatsapp.reply@1', 'whatsapp.send@1']);
      assert.deepEqual(whatsapp?.policies.map((t) => t.type), ['whatsapp.window@1']);
      assert.deepEqual(whatsapp?.jobs, ['whatsapp.send-stored', 'whatsapp.prune-updates']);
      assert.deepEqual(whatsapp?.topics.map((t) => t.name).sort(), ['delivery', 'messages']);
    });
  });
});
